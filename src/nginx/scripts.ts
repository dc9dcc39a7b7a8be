// The shell scripts hotswap runs on a host to look at and drive nginx.
//
// Rules every script here follows:
// - It is a constant: no user value is ever pasted into it. It runs as
//   `sh -c SCRIPT hotswap ARG...` and reads every path or pid from "$1".."$n".
// - POSIX sh only (tested with dash, bash --posix), /proc, and coreutils
//   (od, tr, head, tail, dd, stat, readlink, sha256sum, sleep with fractions, id).
//   No bash features, ps/procps, awk, sed or grep. (The wait loop runs under
//   bash where there is one, for a pause without a fork; see waitArgv.)
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
NL='
'
# kvb KEY STRING: the same line, appended to BUF instead of printed. Scripts that
# must fork for some facts (stat, sha256sum) gather first, then print: a fact
# found later can still go where the format wants it, at no fork.
kvb() {
  case $2 in
    *[![:print:]]*) BUF="$BUF$1 %$(printf '%s' "$2" | od -An -v -tx1 | tr -d ' \n')$NL" ;;
    *) BUF="$BUF$1 =$2$NL" ;;
  esac
}
# hexw FILE MAX: the first MAX bytes of FILE as hex on ONE line, in one fork (od
# -w: a line holds MAX bytes), bytes separated by blanks that the parser drops.
hexw() { od -An -v -tx1 -w"$2" -N"$2" "$1" 2>/dev/null; }

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

# pblock SCOPE PID: a process block, appended to BUF; PB_OK=1 when it exists.
# The title costs no fork when it can be exact without one: an nginx process's
# cmdline is its title then NUL padding (ngx_setproctitle), so when read (which
# drops NULs) hits EOF without a newline and the text starts with "nginx: ",
# p.title_s is the whole cmdline. Anything else (another program, a zombie's
# empty cmdline, a newline in the title) goes out as p.cmdline_hex, NULs and all.
pblock() {
  PB_OK=0 PT=''
  BUF="$BUF""proc $1 $2$NL"
  if ! pstat "$2"; then BUF="$BUF""p.exists 0$NL"; return 0; fi
  PB_OK=1
  BUF="$BUF""p.exists 1\${NL}p.state $PS_STATE\${NL}p.ppid $PS_PPID\${NL}p.pgid $PS_PGID\${NL}p.sid $PS_SID\${NL}p.tty $PS_TTY\${NL}p.flags $PS_FLAGS\${NL}p.starttime $PS_START$NL"
  kvb p.comm_s "$PS_COMM"
  _pb_t='' _pb_r=0
  IFS= read -r _pb_t 2>/dev/null < "/proc/$2/cmdline" || _pb_r=1
  case $_pb_r$_pb_t in
    '1nginx: '*) kvb p.title_s "$_pb_t" ;;
    *) BUF="$BUF""p.cmdline_hex $(hexw "/proc/$2/cmdline" 8192)$NL" ;;
  esac
  # PT as ptitle sets it (trailing blanks dropped), so the caller need not read again
  PT=$_pb_t
  while :; do case $PT in *' '|*'	') PT=\${PT%?} ;; *) break ;; esac; done
  return 0
}

# emit_proc SCOPE PID: print a process block.
emit_proc() { BUF=''; pblock "$1" "$2"; printf '%s' "$BUF"; }

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
 *
 * It runs on every host before and after each step, so it forks little: it
 * gathers with builtins into variables first, then runs ONE readlink per master,
 * ONE stat for every file, ONE sha256sum for every distinct file (the running
 * image is usually the binary itself: same dev:ino, hashed once), and prints
 * last. Where a batched answer cannot be trusted (a file vanished meanwhile, a
 * name with a newline), it falls back to one command per file, as exact as ever.
 */
export const FACTS_SCRIPT = PRELUDE + sh`
pidfile=$1 binary=$2 errlog=$3 oldbin=$1.oldbin

# The effective uid (what id -u prints), from /proc/self/status: read is a
# builtin, so "self" is this shell.
uid=''
while read -r _k _r _e _rest; do case $_k in Uid:) uid=$_e; break ;; esac; done 2>/dev/null < /proc/self/status
case $uid in ''|*[!0-9]*) uid=$(id -u) ;; esac

# pf_read PATH: what a pid file holds, by builtins. PFS = absent, unreadable,
# empty or present (nginx creates it with O_TRUNC then writes: empty = not
# written yet). When the content is one line of at most 64 bytes, with or
# without its newline (PFN 1 or 0), PFL is that line and PFP the pid if it is
# one; the file size (from the stat below) then proves no NUL was dropped.
# Otherwise PFN='' and PFP is read the old way (head: NULs and trailing newlines
# dropped), the content is dumped as hex.
pf_read() {
  PFS=absent PFL='' PFN='' PFP=''
  [ -e "$1" ] || return 0
  PFS=unreadable; [ -r "$1" ] || return 0
  PFS=empty; [ -s "$1" ] || return 0
  PFS=present
  _pf_1='' _pf_2='' _pf_r1=1 _pf_r2=0
  { IFS= read -r _pf_1; _pf_r1=$?; IFS= read -r _pf_2; _pf_r2=$?; } 2>/dev/null < "$1"
  if [ "$_pf_r2" -ne 0 ] && [ -z "$_pf_2" ]; then
    if [ "$_pf_r1" -eq 0 ]; then PFN=1; else PFN=0; fi
    if [ $(( \${#_pf_1} + PFN )) -gt 64 ]; then PFN=''; else PFL=$_pf_1; _pf_v=$_pf_1; fi
  fi
  [ -n "$PFN" ] || _pf_v=$(head -c 64 "$1" 2>/dev/null)
  case $_pf_v in ''|*[!0-9]*) ;; *) PFP=$_pf_v ;; esac
  return 0
}

# peek KEY PID: the minimum about another process: exists, state, is an nginx
# master. The master itself (a session leader that never forked) is not read again.
peek() {
  if [ "$2" = "$_mp" ]; then BUF="$BUF$1 1 $_g_state $_g_master$NL"
  elif pstat "$2"; then
    if is_master "$2"; then _m=1; else _m=0; fi
    BUF="$BUF$1 1 $PS_STATE $_m$NL"
  else
    BUF="$BUF$1 0 - 0$NL"
  fi
}

# links PID: LK_CWD, LK_EXE = readlink of its cwd and exe (LK_CO, LK_EO = 1 when
# read), both by one readlink unless a target holds a newline.
links() {
  LK_CWD='' LK_EXE='' LK_CO=0 LK_EO=0
  if [ -e "/proc/$1/cwd" ] && [ -e "/proc/$1/exe" ] &&
     _lk=$(readlink "/proc/$1/cwd" "/proc/$1/exe" 2>/dev/null && echo x); then
    _lk=\${_lk%x}; _lk_a=\${_lk%%"$NL"*}; _lk_b=\${_lk#*"$NL"}; _lk_b=\${_lk_b%"$NL"}
    case $_lk_b in *"$NL"*) ;; *) LK_CWD=$_lk_a LK_EXE=$_lk_b LK_CO=1 LK_EO=1; return 0 ;; esac
  fi
  if rl "/proc/$1/cwd"; then LK_CWD=$RL LK_CO=1; fi
  if rl "/proc/$1/exe"; then LK_EXE=$RL LK_EO=1; fi
  return 0
}

# gather_master SCOPE PID: the master named by a pid file, what USR2 would exec,
# and its children, as text in GM_A (its block up to where the sha256 and
# dev:ino of its image go), GM_B (up to where its exec file's go), GM_C (the
# children's blocks). GM_E = its /proc/PID/exe to stat and hash ('' if not
# reachable), GM_DEL = 1 when that link reads "... (deleted)"; GM_X = the file
# USR2 would exec ('' if none), GM_XE = 1 when it exists.
gather_master() {
  _s=$1 _mp=$2
  GM_A='' GM_B='' GM_C='' GM_E='' GM_DEL=0 GM_X='' GM_XE=0 BUF=''
  pblock "$_s" "$_mp"
  # what pblock read stands for the master below: /proc reads cost a syscall a byte
  _sid=$PS_SID _ppid=$PS_PPID _g_state=$PS_STATE _g_pt=$PT _g_master=0
  case $PT in 'nginx: master process '*|'nginx: master process') _g_master=1 ;; esac
  _cwd=''
  if [ "$PB_OK" = 1 ]; then
    links "$_mp"
    if [ "$LK_CO" = 1 ]; then _cwd=$LK_CWD; kvb p.cwd_s "$LK_CWD"; fi
    # exe may read "/path/nginx (deleted)" once the file was replaced; the link
    # still opens the running image, so sha256 and dev:ino are of what runs.
    if [ "$LK_EO" = 1 ]; then
      kvb p.exe_s "$LK_EXE"
      case $LK_EXE in *' (deleted)') GM_DEL=1 ;; esac
    fi
    [ ! -e "/proc/$_mp/exe" ] || GM_E=/proc/$_mp/exe
    if kill -0 "$_mp" 2>/dev/null; then BUF="$BUF""p.kill0 1$NL"; else BUF="$BUF""p.kill0 0$NL"; fi
  fi
  GM_A=$BUF BUF=''
  [ "$PB_OK" = 1 ] || return 0
  # Evidence for "is it daemonized?" (rule in facts.ts): who the parent and the
  # session leader are now.
  peek "$_s.parent" "$_ppid"
  peek "$_s.sid_leader" "$_sid"
  PT=$_g_pt
  if [ "$_g_master" = 0 ]; then BUF="$BUF$_s.nginx_master 0$NL"; else
    BUF="$BUF$_s.nginx_master 1$NL"
    # The title is "nginx: master process " + the original argv joined by spaces.
    # USR2 makes nginx execve(argv[0]) with no PATH search, relative to its cwd.
    # argv[0] may itself contain spaces, so try ever longer space-separated
    # prefixes and take the first that names an existing file; else the first word.
    _rest=\${PT#'nginx: master process'}; _rest=\${_rest# }
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
    kvb "$_s.argv0_s" "$_a0"
    case $_a0 in
      /*) BUF="$BUF$_s.argv0_kind absolute$NL"; _x=$_a0 ;;
      */*) BUF="$BUF$_s.argv0_kind relative$NL"; if [ -n "$_cwd" ]; then _x="$_cwd/$_a0"; else _x=''; fi ;;
      *) BUF="$BUF$_s.argv0_kind bare$NL"; _x='' ;;   # execve("nginx") fails: cannot upgrade
    esac
    if [ -n "$_x" ]; then
      kvb "$_s.exec_s" "$_x"
      GM_X=$_x
      [ ! -e "$_x" ] || GM_XE=1
    fi
  fi
  GM_B=$BUF BUF=''
  children "$_mp"
  for _c in $CHILDREN; do pblock "$_s.child" "$_c"; done
  GM_C=$BUF BUF=''
  return 0
}

pf_read "$pidfile"; pf_s=$PFS pf_l=$PFL pf_n=$PFN pf_p=$PFP
pf_read "$oldbin"; ob_s=$PFS ob_l=$PFL ob_n=$PFN ob_p=$PFP
m_a='' m_b='' m_c='' m_e='' m_del=0 m_x='' m_xe=0
o_a='' o_b='' o_c='' o_e='' o_del=0 o_x='' o_xe=0
if [ -n "$pf_p" ]; then
  gather_master master "$pf_p"
  m_a=$GM_A m_b=$GM_B m_c=$GM_C m_e=$GM_E m_del=$GM_DEL m_x=$GM_X m_xe=$GM_XE
fi
if [ -n "$ob_p" ]; then
  gather_master oldmaster "$ob_p"
  o_a=$GM_A o_b=$GM_B o_c=$GM_C o_e=$GM_E o_del=$GM_DEL o_x=$GM_X o_xe=$GM_XE
fi

# ONE stat -L for every file: "dev:ino mode uid gid size ctime" a line each, in
# argument order. Only with exit status 0 is every line there; otherwise each is
# asked again on its own (ST_OK=0). -L and no -L agree except on symlinks: a
# pid file's ctime (see WAIT_SCRIPT) and the error log's size are of the link
# itself, so those two are asked on their own when they are symlinks.
set --
i_pf='' i_ob='' i_me='' i_mx='' i_oe='' i_ox='' i_b='' i_el=''
case $pf_s in empty|present) set -- "$@" "$pidfile"; i_pf=$# ;; esac
case $ob_s in empty|present) set -- "$@" "$oldbin"; i_ob=$# ;; esac
[ -z "$m_e" ] || { set -- "$@" "$m_e"; i_me=$#; }
[ "$m_xe" = 0 ] || { set -- "$@" "$m_x"; i_mx=$#; }
[ -z "$o_e" ] || { set -- "$@" "$o_e"; i_oe=$#; }
[ "$o_xe" = 0 ] || { set -- "$@" "$o_x"; i_ox=$#; }
[ ! -e "$binary" ] || { set -- "$@" "$binary"; i_b=$#; }
if [ -f "$errlog" ] && [ ! -h "$errlog" ]; then set -- "$@" "$errlog"; i_el=$#; fi
ST_N=$# ST_OK=0 _k=0
for _f in "$@"; do _k=$((_k + 1)); eval "STF_$_k=\$_f"; done
if [ $# -gt 0 ] && _st=$(stat -L -c '%d:%i %a %u %g %s %z' -- "$@" 2>/dev/null); then
  _k=0
  set -f; _ifs=$IFS; IFS=$NL
  for _l in $_st; do _k=$((_k + 1)); eval "ST_$_k=\$_l"; done
  IFS=$_ifs; set +f
  [ "$_k" -ne "$ST_N" ] || ST_OK=1
fi

# st IDX: ST = stat line of file IDX, status 1 if none.
st() {
  ST=''
  [ -n "$1" ] || return 1
  if [ "$ST_OK" = 1 ]; then eval "ST=\$ST_$1"; return 0; fi
  eval "_f=\$STF_$1"
  ST=$(stat -L -c '%d:%i %a %u %g %s %z' -- "$_f" 2>/dev/null) && [ -n "$ST" ]
}
# devino IDX: DI = dev:ino of file IDX ('' if unknown).
devino() { DI=''; if st "$1"; then DI=\${ST%%' '*}; fi; }

devino "$i_me"; m_di=$DI
devino "$i_oe"; o_di=$DI
devino "$i_b"; b_di=$DI

# ONE sha256sum for every distinct file. Two names with the same dev:ino are the
# same file, so one hash serves both: the binary is usually what the master
# runs (not when that reads "(deleted)": then the binary was replaced).
set --
h_me='' h_oe='' h_b=''
if [ -n "$m_e" ] && [ -r "$m_e" ]; then set -- "$@" "$m_e"; h_me=$#; fi
if [ -n "$o_e" ] && [ -r "$o_e" ]; then
  if [ -n "$h_me" ] && [ -n "$o_di" ] && [ "$o_di" = "$m_di" ]; then h_oe=$h_me; else set -- "$@" "$o_e"; h_oe=$#; fi
fi
if [ -f "$binary" ] && [ -r "$binary" ]; then
  if [ -n "$h_me" ] && [ -n "$b_di" ] && [ "$b_di" = "$m_di" ] && [ "$m_del" = 0 ]; then h_b=$h_me
  elif [ -n "$h_oe" ] && [ -n "$b_di" ] && [ "$b_di" = "$o_di" ] && [ "$o_del" = 0 ]; then h_b=$h_oe
  else set -- "$@" "$binary"; h_b=$#; fi
fi
HS_N=$# HS_OK=0 _k=0
for _f in "$@"; do _k=$((_k + 1)); eval "HSF_$_k=\$_f"; done
if [ $# -gt 0 ] && _hs=$(sha256sum -- "$@" 2>/dev/null); then
  # "HASH  NAME" a line each; a name with a newline or backslash is escaped and
  # the line starts with a backslash.
  _k=0
  set -f; _ifs=$IFS; IFS=$NL
  for _l in $_hs; do
    _k=$((_k + 1)); _l=\${_l#\\}; _l=\${_l%%' '*}
    case $_l in *[!0-9a-f]*|'') _k=-1; break ;; esac
    eval "HS_$_k=\$_l"
  done
  IFS=$_ifs; set +f
  [ "$_k" -ne "$HS_N" ] || HS_OK=1
fi
# hs IDX: HS = sha256 of file IDX, status 1 if none.
hs() {
  HS=''
  [ -n "$1" ] || return 1
  if [ "$HS_OK" = 1 ]; then eval "HS=\$HS_$1"; return 0; fi
  eval "_f=\$HSF_$1"
  _h=$(sha256sum 2>/dev/null < "$_f") && HS=\${_h%% *} && [ -n "$HS" ]
}

# pf_out KEY PATH STATE LINE NL PID STAT_IDX: the pid file's lines into BUF;
# PFP = its pid after all ('' when the content changed under us or holds NULs).
# ctime is reported because nginx changes it only by renaming the file (to
# .oldbin and back; a new master writes a new file): the wait step compares it
# to see a failed new binary (see WAIT_SCRIPT).
pf_out() {
  PFP=$6
  kvb "$1.path_s" "$2"
  case $3 in absent|unreadable) BUF="$BUF$1.state $3$NL"; PFP=''; return 0 ;; esac
  _po_sz=''
  if st "$7"; then
    _po_sz=\${ST#* * * * }; _po_sz=\${_po_sz%%' '*}
    _po_ct=\${ST#* * * * * }
  else _po_ct=''; fi
  [ ! -h "$2" ] || _po_ct=$(stat -c '%z' -- "$2" 2>/dev/null)
  BUF="$BUF$1.ctime $_po_ct$NL"
  if [ "$3" = empty ]; then BUF="$BUF$1.state empty$NL"; PFP=''; return 0; fi
  BUF="$BUF$1.state present$NL"
  if [ -n "$5" ] && [ "$_po_sz" = $(( \${#4} + $5 )) ]; then
    if [ "$5" = 1 ]; then kvb "$1.line_s" "$4"; else kvb "$1.content_s" "$4"; fi
  else
    BUF="$BUF$1.content_hex $(hexw "$2" 64)$NL"
    # the line read does not match the size: NULs in it, or a rewrite meanwhile
    if [ -n "$5" ] && [ -n "$PFP" ]; then
      _po_v=$(head -c 64 "$2" 2>/dev/null)
      [ "$_po_v" = "$PFP" ] || PFP=''
    fi
  fi
  [ -z "$PFP" ] || BUF="$BUF$1.pid $PFP$NL"
  return 0
}

# master_out SCOPE A B C EXE_STAT_IDX EXE_HASH_IDX EXEC EXEC_STAT_IDX
master_out() {
  BUF="$BUF$2"
  if hs "$6"; then BUF="$BUF""p.exe_sha256 $HS$NL"; fi
  devino "$5"; [ -z "$DI" ] || BUF="$BUF""p.exe_devino $DI$NL"
  BUF="$BUF$3"
  if [ -n "$7" ]; then
    # Same file as the binary we will replace? Compare dev:ino, never strings
    # (symlinks, "..", bind mounts).
    devino "$8"
    if [ -n "$DI" ]; then BUF="$BUF$1.exec_exists 1\${NL}$1.exec_devino $DI$NL"; else BUF="$BUF$1.exec_exists 0$NL"; fi
  fi
  BUF="$BUF$4"
}

BUF="#hotswap-facts 1\${NL}uid $uid$NL"
pf_out pidfile "$pidfile" "$pf_s" "$pf_l" "$pf_n" "$pf_p" "$i_pf"; pf_p=$PFP
pf_out oldbin "$oldbin" "$ob_s" "$ob_l" "$ob_n" "$ob_p" "$i_ob"; ob_p=$PFP
[ -z "$pf_p" ] || master_out master "$m_a" "$m_b" "$m_c" "$i_me" "$h_me" "$m_x" "$i_mx"
[ -z "$ob_p" ] || master_out oldmaster "$o_a" "$o_b" "$o_c" "$i_oe" "$h_oe" "$o_x" "$i_ox"

# The binary file we are going to replace.
kvb binary.path_s "$binary"
if [ -e "$binary" ]; then
  BUF="$BUF""binary.exists 1$NL"
  if st "$i_b"; then
    set -f; set -- $ST; set +f
    BUF="$BUF""binary.mode $2\${NL}binary.uid $3\${NL}binary.gid $4\${NL}binary.size $5\${NL}binary.devino $1$NL"
  fi
  if [ -f "$binary" ]; then BUF="$BUF""binary.regular 1$NL"; else BUF="$BUF""binary.regular 0$NL"; fi
  if hs "$h_b"; then BUF="$BUF""binary.sha256 $HS$NL"; fi
else
  BUF="$BUF""binary.exists 0$NL"
fi
_dir=\${binary%/*}; [ -n "$_dir" ] || _dir=/
if [ -d "$_dir" ]; then
  BUF="$BUF""binary.dir_exists 1$NL"
  if [ -w "$_dir" ]; then BUF="$BUF""binary.dir_writable 1$NL"; else BUF="$BUF""binary.dir_writable 0$NL"; fi
  # free bytes for an unprivileged writer: available blocks * block size
  if _fs=$(stat -f -c '%a %S' -- "$_dir" 2>/dev/null); then
    set -f; set -- $_fs; set +f
    BUF="$BUF""binary.dir_free_bytes $(( $1 * $2 ))$NL"
  fi
else
  BUF="$BUF""binary.dir_exists 0$NL"
fi

kvb errorlog.path_s "$errlog"
if [ -f "$errlog" ]; then
  if [ -n "$i_el" ] && st "$i_el"; then _sz=\${ST#* * * * }; _sz=\${_sz%%' '*}
  else _sz=$(stat -c '%s' -- "$errlog" 2>/dev/null); fi
  printf '%s' "$BUF""errorlog.exists 1\${NL}errorlog.size $_sz\${NL}errorlog.tail_hex"
  # one line of hex, up to 1 MiB of the last 20 lines; the blank line that
  # follows is skipped by the parser
  tail -n 20 "$errlog" 2>/dev/null | od -An -v -tx1 -w1048576 -N1048576
  echo
else
  printf '%s' "$BUF""errorlog.exists 0$NL"
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
    NAP=sleep
    # kept only if this first "read -t" really times out (status above 128)
    if [ -n "\${BASH_VERSION-}" ] && eval 'exec 9<> <(:)' 2>/dev/null; then
      read -r -t 0.015 -u 9 _ 2>/dev/null
      if [ $? -gt 128 ]; then NAP=read; return 0; fi
    fi
  fi
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
  nap
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

/**
 * STOP_USR2_CHILD: stop the process USR2 started when it never became a
 * serving master (a new build that hangs at start). Args: old-master-pid
 * child-pid seconds. Re-checked on the host right before each kill: the pid
 * must be a live child of the old master that has exec'd (no PF_FORKNOEXEC),
 * which nginx only ever does for USR2. TERM (with CONT, for a stopped one),
 * then KILL after the given seconds. Prints one line:
 * `gone`, `stopped TERM|KILL <pid>`, or `refused: <why>` (exit 3).
 */
export const STOP_USR2_CHILD_SCRIPT = PRELUDE + sh`
old=\${1-} pid=\${2-} secs=\${3-2}
case $old$pid in ''|*[!0-9]*) echo "refused: bad pids"; exit 3 ;; esac
provable() {
  pstat "$pid" || return 1
  [ "$PS_STATE" != Z ] || return 1
  [ "$PS_PPID" = "$old" ] || { echo "refused: pid $pid is no longer a child of the old master $old"; exit 3; }
  [ $((PS_FLAGS & 64)) -eq 0 ] || { echo "refused: pid $pid has not exec'd: it is not the process USR2 started"; exit 3; }
  return 0
}
provable || { echo gone; exit 0; }
kill -s TERM "$pid" 2>/dev/null; kill -s CONT "$pid" 2>/dev/null
i=0
while [ "$i" -lt $((secs * 10)) ]; do
  provable || { echo "stopped TERM $pid"; exit 0; }
  sleep 0.1; i=$((i + 1))
done
provable || { echo "stopped TERM $pid"; exit 0; }
kill -s KILL "$pid" 2>/dev/null || { echo "refused: kill -s KILL $pid failed (permission?)"; exit 3; }
echo "stopped KILL $pid"
`;

/** argv for a constant script: user values only ever travel as positional args. */
export function scriptArgv(script: string, args: readonly string[]): string[] {
  return ['sh', '-c', script, 'hotswap', ...args];
}

// Runs the script given as $1 under bash when the host has one (its `read -t`
// pauses without a fork: see nap in WAIT_SCRIPT), else in this sh itself.
// command -v is a builtin: choosing costs no fork.
// bash reads no start-up file: BASH_ENV unset, and --norc for the ~/.bashrc
// that some builds source when they think sshd started them.
const UNDER_BASH = sh`s=$1; shift
if command -v bash >/dev/null 2>&1; then unset BASH_ENV; exec bash --norc --noprofile -c "$s" hotswap "$@"; fi
eval "$s"
`;

/** argv for the wait loop: like scriptArgv, under bash where there is one. */
export function waitArgv(args: readonly string[]): string[] {
  return ['sh', '-c', UNDER_BASH, 'hotswap', WAIT_SCRIPT, ...args];
}
