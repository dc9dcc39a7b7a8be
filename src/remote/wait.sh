# WAIT: loop on the host (every ~15 ms) until a condition holds or the timeout
# passes. Args: mode old-pid pid-file timeout-ms error-log error-log-size-at-start
# [pid-file-ctime-at-start]. Exit 0 ok, 1 condition failed or timed out, 2 bad
# args. Output: the `#hotswap-wait 1` format (parsed by src/nginx/wait.ts).
# Run under bash where the host has one (see under-bash.sh and nap below).
set -u
export LC_ALL=C
. ./lib/kv.sh
. ./lib/proc.sh
. ./lib/children.sh
. ./lib/pblock.sh
. ./lib/conns.sh

# now_cs: NOW = uptime in centiseconds. /proc/uptime is read by a builtin: no fork,
# monotonic, and 10 ms resolution is what the wait loop needs. "08" must not be
# read as octal, hence the stripped leading zero.
now_cs() {
  _up=0.0; read -r _up _rest < /proc/uptime
  _f=${_up#*.}; _f=${_f#0}
  NOW=$(( ${_up%.*} * 100 + ${_f:-0} ))
}
mode=${1-} old=${2-} pidfile=${3-} timeout_ms=${4-} errlog=${5-} logoff=${6-} ctime0=${7-}
echo '#hotswap-wait 1'
bad() { echo "result fail"; echo "reason bad-args"; kv message_s "$1"; echo end; exit 2; }
case $mode in new-master-ready|old-workers-exited|old-master-exited) ;; *) bad "unknown mode" ;; esac
case $old in ''|0|*[!0-9]*) bad "old pid must be a positive integer" ;; esac
case $timeout_ms in ''|*[!0-9]*) bad "timeout must be an integer (ms)" ;; esac
case $logoff in ''|*[!0-9]*) logoff=0 ;; esac
case $pidfile in /*) ;; *) bad "pid file must be an absolute path" ;; esac
oldbin=$pidfile.oldbin

now_cs; start=$NOW; deadline=$(( NOW + (timeout_ms + 9) / 10 ))
WHY='' LOGFAIL='' LOGLINE='' NEWPID='' WORKERS='' REMAIN='' NOTE=''

# readpid FILE: RP = the pid in FILE, '' if absent, empty (being written) or not a number.
readpid() { RP=''; read -r RP 2>/dev/null < "$1" || :; case $RP in *[!0-9]*) RP='' ;; esac; }

# new-master-ready watches the error log: it is opened ONCE, at the offset the
# facts saw (dd seeks there: one process, nothing read), and every look reads
# only what was appended since, with builtins, so a look costs no fork.
# Reading on the open file also follows it if it is rotated meanwhile, as nginx
# itself writes on. (Truncated below the offset meanwhile, its new lines are
# seen once it grows past it; the pid file check below still sees a failed
# new binary.)
LOGFD=0 LOGPART=''
# (A redirection on a bare exec would stay for the whole script: no 2>/dev/null.)
# A symlinked log is not read: the facts' offset is the link's own size.
if [ "$mode" = new-master-ready ] && [ -n "$errlog" ] && [ -f "$errlog" ] && [ ! -h "$errlog" ] && [ -r "$errlog" ] && command exec 3<"$errlog"; then
  LOGFD=1
  [ "$logoff" -eq 0 ] || dd bs=1 skip="$logoff" count=0 <&3 2>/dev/null || LOGFD=0
fi

# scan_log: the lines appended since the last look. The old master logs
# "new binary process N exited with code C" (NOTICE: invisible when error_log is
# at the default "error" level), "... exited on signal S" (ALERT), "execve()
# failed while executing new binary process" (ALERT), and "the changing binary
# signal is ignored" (CRIT) when USR2 arrives during an upgrade or while the
# master's parent is still the one it started under. A line read without its
# newline is kept until the rest arrives. At most 200 lines a look, so a busy
# log cannot keep the loop from its deadline.
scan_log() {
  [ "$LOGFD" = 1 ] || return 0
  _n=0
  while [ $_n -lt 200 ]; do
    _n=$((_n + 1)) _line=''
    if ! IFS= read -r _line <&3; then LOGPART=$LOGPART$_line; return 0; fi
    _line=$LOGPART$_line LOGPART=''
    case $_line in
      *'new binary process '*' exited '*|*'execve() failed while executing new binary process'*)
        LOGFAIL=new-binary-exited LOGLINE=$_line ;;
      *'the changing binary signal is ignored'*)
        [ -n "$LOGFAIL" ] || { LOGFAIL=usr2-ignored LOGLINE=$_line; } ;;
    esac
  done
}

# nap: the pause between two looks. bash waits in "read -t" on a pipe nobody
# writes to, which costs no fork (waitArgv runs this script under bash where
# there is one); any other sh forks sleep. eval hides bash's syntax from them.
# Set up at the first pause: a wait that holds at once makes no process.
NAP=''
nap() {
  if [ -z "$NAP" ]; then
    NAP='sleep'
    # kept only if this first "read -t" really times out (status above 128)
    if [ -n "${BASH_VERSION-}" ] && eval 'exec 9<> <(:)' 2>/dev/null; then
      # shellcheck disable=SC3045 # bash only: BASH_VERSION is set
      read -r -t 0.015 -u 9 _ 2>/dev/null
      if [ $? -gt 128 ]; then NAP='read'; return 0; fi
    fi
  fi
  # shellcheck disable=SC3045 # NAP is read only under bash (above)
  if [ "$NAP" = read ]; then read -r -t 0.015 -u 9 _ || :; else sleep 0.015; fi
}

# old_alive: the old master is a live nginx master (a zombie or a reused pid is not).
old_alive() { pstat "$old" && [ "$PS_STATE" != Z ] && is_master "$old"; }

# workers_of PID: WORKERS = its live (non-zombie) worker children.
workers_of() {
  WORKERS=''
  children "$1"
  for _w in $CHILDREN; do
    pstat "$_w" || continue
    [ "$PS_STATE" != Z ] || continue
    ptitle "$_w"
    case $PT in 'nginx: worker process'*) WORKERS="$WORKERS $_w" ;; esac
  done
  return 0
}

check_new_master_ready() {
  readpid "$oldbin"; _ob=$RP
  readpid "$pidfile"; _pf=$RP
  if [ "$_ob" != "$old" ]; then
    if [ -z "$_ob" ]; then WHY="no $oldbin yet: the old master has not acted on USR2"
    else WHY="$oldbin holds $_ob, not the old master $old"; fi
    return 1
  fi
  [ -n "$_pf" ] || { WHY="pid file not written yet: the new master is still starting"; return 1; }
  [ "$_pf" != "$old" ] || { WHY="pid file still holds the old master $old"; return 1; }
  pstat "$_pf" || { WHY="new master $_pf from the pid file does not exist"; return 1; }
  [ "$PS_STATE" != Z ] || { WHY="new master $_pf is a zombie"; return 1; }
  is_master "$_pf" || { WHY="process $_pf is not (yet) titled nginx: master process"; return 1; }
  workers_of "$_pf"
  [ -n "$WORKERS" ] || { WHY="new master $_pf has no worker process yet"; return 1; }
  NEWPID=$_pf
}

# reverted: the pid file holds the old pid again, .oldbin is gone, and the pid file
# was renamed since the caller's snapshot (its ctime changed; nothing but a rename
# touches it). That is the old master taking its pid file back after the new
# binary died, which is detectable even when the log level hides the reason.
# Without the snapshot a not-yet-handled USR2 looks exactly the same, so we
# then rely on the log and the timeout.
reverted() {
  [ -n "$ctime0" ] || return 1
  [ ! -e "$oldbin" ] || return 1
  readpid "$pidfile"; [ "$RP" = "$old" ] || return 1
  _ct=$(stat -c '%z' "$pidfile" 2>/dev/null) || return 1
  [ "$_ct" != "$ctime0" ] || return 1
  children "$old"
  for _c in $CHILDREN; do
    if pstat "$_c" && [ "$PS_STATE" != Z ] && is_master "$_c"; then return 1; fi
  done
  return 0
}

check_old_workers_exited() {
  if ! old_alive; then NOTE="old master $old is gone; its workers cannot be told apart"; return 0; fi
  readpid "$pidfile"; _pf=$RP
  children "$old"; REMAIN=''
  for _c in $CHILDREN; do
    pstat "$_c" || continue                 # exited meanwhile
    [ "$PS_STATE" != Z ] || continue        # zombies count as exited
    [ "$_c" != "$_pf" ] || continue         # the new master is a child of the old one
    is_master "$_c" && continue             # new binary not yet titled/pid-filed
    REMAIN="$REMAIN $_c"
  done
  [ -z "$REMAIN" ] && return 0
  # shellcheck disable=SC2086 # split into fields on purpose (globbing off)
  { set -f; set -- $REMAIN; set +f; }
  WHY="$# old worker process(es) still running (WINCH not sent or ignored, or open connections)"
  return 1
}

check_old_master_exited() {
  if old_alive; then WHY="old master $old still running"; return 1; fi
  if [ -e "$oldbin" ]; then WHY="$oldbin still exists"; return 1; fi
  return 0
}

# report_master SCOPE PID [SKIP]: a master and its children (but SKIP, reported on
# its own), with the open connections of each live non-master child.
report_master() {
  emit_proc "$1-master" "$2"
  children "$2"
  for _c in $CHILDREN; do
    [ "$_c" != "${3-}" ] || continue
    emit_proc "$1-child" "$_c"
    pstat "$_c" && [ "$PS_STATE" != Z ] && ! is_master "$_c" && emit_conns "$_c"
  done
  return 0
}

elapsed() { now_cs; echo "elapsed_ms $(( (NOW - start) * 10 ))"; }

succeed() {
  echo "result ok"
  readpid "$pidfile"
  if [ -n "$NEWPID" ]; then _m=$NEWPID; else _m=$RP; fi
  if [ -n "$_m" ] && [ "$_m" != "$old" ] && pstat "$_m" && [ "$PS_STATE" != Z ]; then
    [ -n "$NEWPID" ] || workers_of "$_m"
    echo "newmaster $_m"
    for _w in $WORKERS; do echo "worker $_w"; done
  fi
  [ -z "$NOTE" ] || kv note_s "$NOTE"
  elapsed; echo end; exit 0
}

fail() {
  now_cs; _end=$NOW
  echo "result fail"
  echo "reason $1"
  kv message_s "$2"
  [ -z "$LOGLINE" ] || kv logline_s "$LOGLINE"
  readpid "$oldbin"; echo "oldbin $RP"
  readpid "$pidfile"; echo "pidfile $RP"
  _new=''
  if [ -n "$RP" ] && [ "$RP" != "$old" ] && pstat "$RP"; then _new=$RP; fi
  # what is still alive, and why
  if pstat "$old" && [ "$PS_STATE" != Z ]; then report_master old "$old" "$_new"; fi
  [ -z "$_new" ] || report_master new "$_new"
  echo "elapsed_ms $(( (_end - start) * 10 ))"; echo end; exit 1
}

while :; do
  case $mode in
    new-master-ready)
      scan_log
      [ -z "$LOGFAIL" ] || { if [ "$LOGFAIL" = usr2-ignored ]; then fail usr2-ignored "nginx ignored USR2: $LOGLINE"; else fail new-binary-exited "the new binary exited; the old master keeps serving: $LOGLINE"; fi; }
      old_alive || fail old-master-gone "old master $old is gone or a zombie"
      check_new_master_ready && succeed
      reverted && fail new-binary-exited "the old master renamed $oldbin back to $pidfile: the new binary exited (its log line is below the error_log level)"
      ;;
    old-workers-exited) check_old_workers_exited && succeed ;;
    old-master-exited) check_old_master_exited && succeed ;;
  esac
  now_cs
  [ "$NOW" -lt "$deadline" ] || fail timeout "timed out after $timeout_ms ms: $WHY"
  nap
done
