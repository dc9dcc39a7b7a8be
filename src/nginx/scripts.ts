// The shell scripts hotswap runs on a host to look at and drive nginx.
//
// Rules every script here follows:
// - It is a constant: no user value is ever pasted into it. It runs as
//   `sh -c SCRIPT hotswap ARG...` and reads every path or pid from "$1".."$n".
// - POSIX sh only (tested with dash, bash --posix), /proc, and coreutils
//   (od, tr, head, tail, stat, readlink, sha256sum, sleep with fractions, id).
//   No bash, ps/procps, awk, sed or grep.
// - Output is line based, `key value`, one fact per line. Anything that can hold
//   arbitrary bytes never breaks the framing: keys ending in `_s` carry a string
//   as `=text` when it is printable ASCII and as `%hex` otherwise (paths, titles,
//   log lines); keys ending in `_hex` carry raw bytes as hex (/proc/PID/cmdline
//   with its NUL separators, pid file content, the error log tail). The first line names the format, the last line is `end`, so a
//   truncated output is detected.
// - A process is described by a block: a line `proc <scope> <pid>` followed by
//   `p.<field> <value>` lines that belong to it.

/**
 * Tag for script text: the raw source, verbatim (backslashes kept), with shell
 * parameter expansions written `\${...}` so JS does not interpolate them.
 * Interpolation is refused by the type: a script never contains a value.
 */
function sh(strings: TemplateStringsArray, ...values: never[]): string {
  if (values.length > 0) throw new Error('scripts are constants: no interpolation');
  return strings.raw.join('').replace(/\\\$\{/g, '${');
}

/** Shared helpers, prepended to every script (exported for tests). */
export const PRELUDE = sh`
set -u
export LC_ALL=C

# kv KEY STRING: a "KEY_s VALUE" line. The value is "=STRING" when STRING is all
# printable ASCII (the common case; no fork), else "%" + its bytes in hex (a
# newline, a tab, UTF-8...). sh variables cannot hold NUL, so that case never arises.
kv() {
  printf '%s ' "$1"
  case $2 in
    *[![:print:]]*) printf '%%'; printf '%s' "$2" | od -An -v -tx1 | tr -d ' \n' ;;
    *) printf '=%s' "$2" ;;
  esac
  echo
}
# hexf FILE MAX: the first MAX bytes of FILE as hex; NUL-safe (used for /proc/PID/cmdline).
hexf() { head -c "$2" "$1" 2>/dev/null | od -An -v -tx1 | tr -d ' \n'; }

# now_cs: NOW = uptime in centiseconds. /proc/uptime is read by a builtin: no fork,
# monotonic, and 10 ms resolution is what the wait loop needs. "08" must not be
# read as octal, hence the stripped leading zero.
now_cs() {
  _up=0.0; read -r _up _rest < /proc/uptime
  _f=\${_up#*.}; _f=\${_f#0}
  NOW=$(( \${_up%.*} * 100 + \${_f:-0} ))
}

# pstat PID: parse /proc/PID/stat into PS_* variables; status 1 if there is no such
# process. comm (field 2) may contain spaces, ')' and '(' , so the fixed fields are
# taken after the LAST ') ' and comm is what lies between the first '(' and the last ')'.
pstat() {
  PS_STATE='' PS_PPID='' PS_PGID='' PS_SID='' PS_TTY='' PS_FLAGS='' PS_START='' PS_COMM=''
  _ps_l=''
  read -r _ps_l 2>/dev/null < "/proc/$1/stat" || [ -n "$_ps_l" ] || return 1
  case $_ps_l in *') '*) ;; *) return 1 ;; esac
  _ps_c=\${_ps_l#*'('}; PS_COMM=\${_ps_c%')'*}
  _ps_r=\${_ps_l##*') '}
  set -f; set -- $_ps_r; set +f
  [ $# -ge 20 ] || return 1
  # after comm: 1 state, 2 ppid, 3 pgrp, 4 session, 5 tty_nr, 6 tpgid, 7 flags, ..., 20 starttime
  PS_STATE=$1 PS_PPID=$2 PS_PGID=$3 PS_SID=$4 PS_TTY=$5 PS_FLAGS=$7
  shift 19; PS_START=$1
  return 0
}

# ptitle PID: PT = /proc/PID/cmdline as read by the shell. NULs are dropped, which
# is fine for nginx titles ("nginx: master process ..." is one string).
ptitle() { PT=''; read -r PT 2>/dev/null < "/proc/$1/cmdline" || :; }

# is_master PID: the process's title says it is an nginx master.
is_master() {
  ptitle "$1"
  case $PT in 'nginx: master process '*|'nginx: master process') return 0 ;; esac
  return 1
}

# children PID: CHILDREN = pids whose parent is PID, zombies included.
# Linux lists each task's children in /proc/PID/task/TID/children
# (CONFIG_PROC_CHILDREN, on in Debian, Ubuntu and RHEL kernels): a few bytes to
# read instead of every process on the host. Without it, children_scan.
children() {
  CHILDREN=''
  if [ -r "/proc/$1/task/$1/children" ]; then
    for _ch_f in "/proc/$1/task/"*/children; do
      _ch_l=''; read -r _ch_l 2>/dev/null < "$_ch_f" || :
      CHILDREN="$CHILDREN $_ch_l"
    done
    return 0
  fi
  children_scan "$1"
}

# children_scan PID: the same from every /proc/N/stat, read by ONE cat (the
# shell's read builtin costs a syscall per byte). Only the fields after the last
# ') ' are split, so a strange comm cannot shift them; a comm with a newline
# only hides that one process.
children_scan() {
  CHILDREN='' _ch_want=$1 _ch_ifs=$IFS
  _ch_all=$(cat /proc/[0-9]*/stat 2>/dev/null)
  set -f
  IFS='
'
  for _ch_l in $_ch_all; do
    _ch_r=\${_ch_l##*') '}
    IFS=' '; set -- $_ch_r; IFS='
'
    if [ "\${2-}" = "$_ch_want" ]; then CHILDREN="$CHILDREN \${_ch_l%% *}"; fi
  done
  IFS=$_ch_ifs
  set +f
  return 0
}

# rl PATH: RL = readlink PATH, exact even when the target ends with a newline.
rl() {
  _rl=$(readlink "$1" 2>/dev/null && echo x) || return 1
  _rl=\${_rl%x}; RL=\${_rl%?}
}

# emit_proc SCOPE PID [full]: a process block. "full" adds what only masters need
# (cwd, exe, sha256 of the running image, kill -0).
emit_proc() {
  _ep_pid=$2 _ep_full=\${3-}
  echo "proc $1 $_ep_pid"
  if ! pstat "$_ep_pid"; then echo "p.exists 0"; return 0; fi
  echo "p.exists 1"
  echo "p.state $PS_STATE"
  echo "p.ppid $PS_PPID"
  echo "p.pgid $PS_PGID"
  echo "p.sid $PS_SID"
  echo "p.tty $PS_TTY"
  echo "p.flags $PS_FLAGS"
  echo "p.starttime $PS_START"
  kv p.comm_s "$PS_COMM"
  echo "p.cmdline_hex $(hexf "/proc/$_ep_pid/cmdline" 8192)"
  [ -n "$_ep_full" ] || return 0
  if rl "/proc/$_ep_pid/cwd"; then kv p.cwd_s "$RL"; fi
  # exe may read "/path/nginx (deleted)" once the file was replaced; the link
  # still opens the running image, so sha256 and dev:ino below are of what runs.
  if rl "/proc/$_ep_pid/exe"; then kv p.exe_s "$RL"; fi
  _h=$(sha256sum 2>/dev/null < "/proc/$_ep_pid/exe") && [ -n "$_h" ] && echo "p.exe_sha256 \${_h%% *}"
  _d=$(stat -L -c '%d:%i' "/proc/$_ep_pid/exe" 2>/dev/null) && echo "p.exe_devino $_d"
  if kill -0 "$_ep_pid" 2>/dev/null; then echo "p.kill0 1"; else echo "p.kill0 0"; fi
  return 0
}

# emit_conns PID: what a (worker) process holds open. Socket fds alone overcount
# (listening sockets and the master channel are sockets too), so the socket inodes
# of its fds are looked up in the TCP tables of its network namespace and counted
# by state: 01 ESTABLISHED, 0A LISTEN, anything else (CLOSE_WAIT, FIN_WAIT...) "other".
emit_conns() {
  _cp=$1
  if ! ls "/proc/$_cp/fd" >/dev/null 2>&1; then echo "p.fds_unreadable 1"; return 0; fi
  # ls -l shows "N -> socket:[INODE]"; keep "socket: INODE", "pipe: INODE", ...
  _cs=$(ls -l "/proc/$_cp/fd" 2>/dev/null | tr -s ' ' | cut -s -d'>' -f2 | tr -d ' ]' | tr '[' ' ')
  _n=0 _ours='' _est=0 _lis=0 _oth=0
  set -f; set -- $_cs; set +f
  while [ $# -gt 0 ]; do
    if [ "$1" = socket: ] && [ $# -ge 2 ]; then
      _n=$((_n + 1)); _ours="$_ours
P $2"; shift 2
    else shift; fi
  done
  echo "p.sockets $_n"
  if [ "$_n" -gt 0 ]; then
    # The join runs in sort/uniq, not in sh: a busy host has tens of thousands of
    # TCP table lines. Table lines "STATE INODE" and ours "P INODE", sorted by
    # inode: uniq -d -f 1 prints one line per inode seen twice, the table's (hex
    # digits sort before P), i.e. our TCP sockets with their state. Inode 0 is
    # TIME_WAIT (no socket): skipped. The kernel prints the slot number as "%4d:",
    # so from slot 1000 on a line has no leading blank: paste adds one to every
    # line, then tr squeezes, and the fields are the same on every line.
    _hits=$( { printf '%s\n' "$_ours"; cat "/proc/$_cp/net/tcp" "/proc/$_cp/net/tcp6" 2>/dev/null | paste -d' ' /dev/null - | tr -s ' ' | cut -d' ' -f5,11; } | sort -k2,2 -k1,1 | uniq -d -f 1)
    _cifs=$IFS
    set -f
    IFS='
'
    for _h in $_hits; do
      case \${_h##* } in 0|'') continue ;; esac
      case \${_h%% *} in
        01) _est=$((_est + 1)) ;;
        0A) _lis=$((_lis + 1)) ;;
        [0-9A-F][0-9A-F]) _oth=$((_oth + 1)) ;;
      esac
    done
    IFS=$_cifs
    set +f
  fi
  echo "p.tcp_established $_est"
  echo "p.tcp_listen $_lis"
  echo "p.tcp_other $_oth"
}
`;

/**
 * FACTS: everything about a host's nginx in one round trip.
 * Args: pidFile binaryPath errorLog.
 */
export const FACTS_SCRIPT = PRELUDE + sh`
pidfile=$1 binary=$2 errlog=$3
echo '#hotswap-facts 1'
echo "uid $(id -u)"

# emit_pidfile KEY PATH: PIDV = the pid it holds ('' if none). A pid file is
# "written" only when non-empty: nginx creates it with O_TRUNC then writes.
# ctime is reported because nginx changes it only by renaming the file (to
# .oldbin and back; a new master writes a new file): the wait step compares it
# to see a failed new binary (see WAIT_SCRIPT).
emit_pidfile() {
  PIDV=''
  kv "$1.path_s" "$2"
  if [ ! -e "$2" ]; then echo "$1.state absent"; return 0; fi
  if [ ! -r "$2" ]; then echo "$1.state unreadable"; return 0; fi
  echo "$1.ctime $(stat -c '%z' "$2" 2>/dev/null)"
  if [ ! -s "$2" ]; then echo "$1.state empty"; return 0; fi
  echo "$1.state present"
  echo "$1.content_hex $(hexf "$2" 64)"
  _v=$(head -c 64 "$2")
  case $_v in ''|*[!0-9]*) ;; *) PIDV=$_v; echo "$1.pid $_v" ;; esac
  return 0
}

# peek KEY PID: the minimum about another process: exists, state, is an nginx master.
peek() {
  if pstat "$2"; then
    if is_master "$2"; then _m=1; else _m=0; fi
    echo "$1 1 $PS_STATE $_m"
  else
    echo "$1 0 - 0"
  fi
}

# emit_master SCOPE PID: the master named by a pid file, what USR2 would exec, and its children.
emit_master() {
  _s=$1 _mp=$2
  emit_proc "$_s" "$_mp" full
  pstat "$_mp" || return 0
  _sid=$PS_SID _ppid=$PS_PPID
  # Evidence for "is it daemonized?" (rule in facts.ts): who the parent and the
  # session leader are now.
  peek "$_s.parent" "$_ppid"
  peek "$_s.sid_leader" "$_sid"
  if ! is_master "$_mp"; then echo "$_s.nginx_master 0"; else
    echo "$_s.nginx_master 1"
    # The title is "nginx: master process " + the original argv joined by spaces.
    # USR2 makes nginx execve(argv[0]) with no PATH search, relative to its cwd.
    # argv[0] may itself contain spaces, so try ever longer space-separated
    # prefixes and take the first that names an existing file; else the first word.
    _rest=\${PT#'nginx: master process'}; _rest=\${_rest# }
    _cwd=''; if rl "/proc/$_mp/cwd"; then _cwd=$RL; fi
    _cand='' _left=$_rest _a0='' _x='' _first='' _i=0
    while [ -n "$_left" ] && [ $_i -lt 16 ]; do
      _i=$((_i + 1))
      case $_left in
        *' '*) _w=\${_left%%' '*}; _left=\${_left#*' '} ;;
        *) _w=$_left; _left='' ;;
      esac
      if [ $_i -eq 1 ]; then _cand=$_w; _first=$_w; else _cand="$_cand $_w"; fi
      case $_cand in
        /*) _x=$_cand ;;
        */*) if [ -n "$_cwd" ]; then _x="$_cwd/$_cand"; else _x=''; fi ;;
        *) _x='' ;;
      esac
      if [ -n "$_x" ] && [ -f "$_x" ]; then _a0=$_cand; break; fi
    done
    [ -n "$_a0" ] || _a0=$_first
    kv "$_s.argv0_s" "$_a0"
    case $_a0 in
      /*) echo "$_s.argv0_kind absolute"; _x=$_a0 ;;
      */*) echo "$_s.argv0_kind relative"; if [ -n "$_cwd" ]; then _x="$_cwd/$_a0"; else _x=''; fi ;;
      *) echo "$_s.argv0_kind bare"; _x='' ;;   # execve("nginx") fails: cannot upgrade
    esac
    if [ -n "$_x" ]; then
      kv "$_s.exec_s" "$_x"
      # Same file as the binary we will replace? Compare dev:ino, never strings
      # (symlinks, "..", bind mounts).
      if _d=$(stat -L -c '%d:%i' "$_x" 2>/dev/null); then
        echo "$_s.exec_exists 1"; echo "$_s.exec_devino $_d"
      else
        echo "$_s.exec_exists 0"
      fi
    fi
  fi
  children "$_mp"
  for _c in $CHILDREN; do emit_proc "$_s.child" "$_c"; done
  return 0
}

emit_pidfile pidfile "$pidfile"; master_pid=$PIDV
emit_pidfile oldbin "$pidfile.oldbin"; oldbin_pid=$PIDV
[ -z "$master_pid" ] || emit_master master "$master_pid"
[ -z "$oldbin_pid" ] || emit_master oldmaster "$oldbin_pid"

# The binary file we are going to replace.
kv binary.path_s "$binary"
if [ -e "$binary" ]; then
  echo "binary.exists 1"
  if _st=$(stat -L -c '%a %u %g %s %d:%i' "$binary" 2>/dev/null); then
    set -f; set -- $_st; set +f
    echo "binary.mode $1"; echo "binary.uid $2"; echo "binary.gid $3"
    echo "binary.size $4"; echo "binary.devino $5"
  fi
  if [ -f "$binary" ]; then echo "binary.regular 1"; else echo "binary.regular 0"; fi
  _h=$(sha256sum 2>/dev/null < "$binary") && [ -n "$_h" ] && echo "binary.sha256 \${_h%% *}"
else
  echo "binary.exists 0"
fi
_dir=\${binary%/*}; [ -n "$_dir" ] || _dir=/
if [ -d "$_dir" ]; then
  echo "binary.dir_exists 1"
  if [ -w "$_dir" ]; then echo "binary.dir_writable 1"; else echo "binary.dir_writable 0"; fi
  # free bytes for an unprivileged writer: available blocks * block size
  if _fs=$(stat -f -c '%a %S' "$_dir" 2>/dev/null); then
    set -f; set -- $_fs; set +f
    echo "binary.dir_free_bytes $(( $1 * $2 ))"
  fi
else
  echo "binary.dir_exists 0"
fi

kv errorlog.path_s "$errlog"
if [ -f "$errlog" ]; then
  echo "errorlog.exists 1"
  echo "errorlog.size $(stat -c '%s' "$errlog" 2>/dev/null)"
  echo "errorlog.tail_hex $(tail -n 20 "$errlog" 2>/dev/null | od -An -v -tx1 | tr -d ' \n')"
else
  echo "errorlog.exists 0"
fi
echo end
`;

/**
 * WAIT: loop on the host (every ~15 ms) until a condition holds or the timeout
 * passes. Args: mode oldPid pidFile timeoutMs errorLog errorLogSizeAtStart
 * [pidFileCtimeAtStart]. Exit 0 ok, 1 condition failed or timed out, 2 bad args.
 */
export const WAIT_SCRIPT = PRELUDE + sh`
mode=\${1-} old=\${2-} pidfile=\${3-} timeout_ms=\${4-} errlog=\${5-} logoff=\${6-} ctime0=\${7-}
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

# scan_log: read only the error log bytes appended since the last look. The old
# master logs "new binary process N exited with code C" (NOTICE: invisible when
# error_log is at the default "error" level), "... exited on signal S" (ALERT),
# "execve() failed while executing new binary process" (ALERT), and
# "the changing binary signal is ignored" (CRIT) when USR2 arrives during an
# upgrade or while the master's parent is still the one it started under.
scan_log() {
  [ -n "$errlog" ] || return 0
  _size=$(stat -c '%s' "$errlog" 2>/dev/null) || return 0
  [ "$_size" -ge "$logoff" ] || logoff=0      # rotated or truncated: read it all
  [ "$_size" -gt "$logoff" ] || return 0
  _chunk=$(tail -c +$((logoff + 1)) "$errlog" 2>/dev/null | head -c $((_size - logoff)))
  logoff=$_size
  # Match the whole chunk in memory first; only then walk its lines (read is slow).
  case $_chunk in
    *'new binary process '*|*'the changing binary signal is ignored'*) ;;
    *) return 0 ;;
  esac
  while IFS= read -r _line; do
    case $_line in
      *'new binary process '*' exited '*|*'execve() failed while executing new binary process'*)
        LOGFAIL=new-binary-exited LOGLINE=$_line ;;
      *'the changing binary signal is ignored'*)
        [ -n "$LOGFAIL" ] || { LOGFAIL=usr2-ignored LOGLINE=$_line; } ;;
    esac
  done <<EOF
$_chunk
EOF
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
  set -f; set -- $REMAIN; set +f
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
    [ "$_c" != "\${3-}" ] || continue
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
  sleep 0.015
done
`;

/** Exit codes of SIGNAL_SCRIPT (0 = sent). */
export const SIGNAL_EXIT = {
  sent: 0,
  badArgs: 2,
  noSuchProcess: 3,
  zombie: 4,
  notNginxMaster: 5,
  killFailed: 6,
} as const;

/**
 * SIGNAL: send one allowlisted signal to a pid, only if it is a live nginx master.
 * Args: signal pid. Prints one line.
 */
export const SIGNAL_SCRIPT = PRELUDE + sh`
sig=\${1-} pid=\${2-}
case $sig in USR2|WINCH|QUIT|HUP|TERM) ;; *) echo "refused: signal not allowed"; exit 2 ;; esac
case $pid in ''|0|1|*[!0-9]*) echo "refused: not a valid master pid"; exit 2 ;; esac
# A stale pid file may name a pid that now belongs to anything: check /proc first.
pstat "$pid" || { echo "refused: no process $pid"; exit 3; }
[ "$PS_STATE" != Z ] || { echo "refused: process $pid has exited (zombie)"; exit 4; }
if ! is_master "$pid"; then
  _t=$(head -c 120 "/proc/$pid/cmdline" 2>/dev/null | tr '\0' ' ' | tr -c '[:print:]' '?')
  echo "refused: process $pid is not an nginx master: $_t"
  exit 5
fi
kill -s "$sig" "$pid" 2>/dev/null || { echo "failed: kill -s $sig $pid (permission?)"; exit 6; }
echo "sent $sig to $pid"
`;

/** argv for a constant script: user values only ever travel as positional args. */
export function scriptArgv(script: string, args: readonly string[]): string[] {
  return ['sh', '-c', script, 'hotswap', ...args];
}
