# FACTS: everything about a host's nginx in one round trip.
# Args: pid-file binary error-log. Output: the `#hotswap-facts 1` format
# (parsed by src/nginx/facts.ts).
#
# It runs on every host before and after each step, so it forks little: it
# gathers with builtins into variables first, then runs ONE readlink per master,
# ONE stat for every file, ONE sha256sum for every distinct file (the running
# image is usually the binary itself: same dev:ino, hashed once), and prints
# last. Where a batched answer cannot be trusted (a file vanished meanwhile, a
# name with a newline), it falls back to one command per file, as exact as ever.
set -u
export LC_ALL=C
. ./lib/kv.sh
. ./lib/proc.sh
. ./lib/children.sh
. ./lib/pblock.sh

# rl PATH: RL = readlink PATH, exact even when the target ends with a newline.
rl() {
  _rl=$(readlink "$1" 2>/dev/null && echo x) || return 1
  _rl=${_rl%x}; RL=${_rl%?}
}
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
    if [ $(( ${#_pf_1} + PFN )) -gt 64 ]; then PFN=''; else PFL=$_pf_1; _pf_v=$_pf_1; fi
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
    _lk=${_lk%x}; _lk_a=${_lk%%"$NL"*}; _lk_b=${_lk#*"$NL"}; _lk_b=${_lk_b%"$NL"}
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
    _rest=${PT#'nginx: master process'}; _rest=${_rest# }
    _cand='' _left=$_rest _a0='' _x='' _first='' _i=0
    while [ -n "$_left" ] && [ $_i -lt 16 ]; do
      _i=$((_i + 1))
      case $_left in
        *' '*) _w=${_left%%' '*}; _left=${_left#*' '} ;;
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
devino() { DI=''; if st "$1"; then DI=${ST%%' '*}; fi; }

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
    _k=$((_k + 1)); _l=${_l#\\}; _l=${_l%%' '*}
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
  _h=$(sha256sum 2>/dev/null < "$_f") && HS=${_h%% *} && [ -n "$HS" ]
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
    _po_sz=${ST#* * * * }; _po_sz=${_po_sz%%' '*}
    _po_ct=${ST#* * * * * }
  else _po_ct=''; fi
  [ ! -h "$2" ] || _po_ct=$(stat -c '%z' -- "$2" 2>/dev/null)
  BUF="$BUF$1.ctime $_po_ct$NL"
  if [ "$3" = empty ]; then BUF="$BUF$1.state empty$NL"; PFP=''; return 0; fi
  BUF="$BUF$1.state present$NL"
  if [ -n "$5" ] && [ "$_po_sz" = $(( ${#4} + $5 )) ]; then
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
    if [ -n "$DI" ]; then BUF="$BUF$1.exec_exists 1${NL}$1.exec_devino $DI$NL"; else BUF="$BUF$1.exec_exists 0$NL"; fi
  fi
  BUF="$BUF$4"
}

BUF="#hotswap-facts 1${NL}uid $uid$NL"
pf_out pidfile "$pidfile" "$pf_s" "$pf_l" "$pf_n" "$pf_p" "$i_pf"; pf_p=$PFP
pf_out oldbin "$oldbin" "$ob_s" "$ob_l" "$ob_n" "$ob_p" "$i_ob"; ob_p=$PFP
[ -z "$pf_p" ] || master_out master "$m_a" "$m_b" "$m_c" "$i_me" "$h_me" "$m_x" "$i_mx"
[ -z "$ob_p" ] || master_out oldmaster "$o_a" "$o_b" "$o_c" "$i_oe" "$h_oe" "$o_x" "$i_ox"

# The binary file we are going to replace.
kvb binary.path_s "$binary"
if [ -e "$binary" ]; then
  BUF="$BUF""binary.exists 1$NL"
  if st "$i_b"; then
    # shellcheck disable=SC2086 # split into fields on purpose (globbing off)
    { set -f; set -- $ST; set +f; }
    BUF="$BUF""binary.mode $2${NL}binary.uid $3${NL}binary.gid $4${NL}binary.size $5${NL}binary.devino $1$NL"
  fi
  if [ -f "$binary" ]; then BUF="$BUF""binary.regular 1$NL"; else BUF="$BUF""binary.regular 0$NL"; fi
  if hs "$h_b"; then BUF="$BUF""binary.sha256 $HS$NL"; fi
else
  BUF="$BUF""binary.exists 0$NL"
fi
_dir=${binary%/*}; [ -n "$_dir" ] || _dir=/
if [ -d "$_dir" ]; then
  BUF="$BUF""binary.dir_exists 1$NL"
  if [ -w "$_dir" ]; then BUF="$BUF""binary.dir_writable 1$NL"; else BUF="$BUF""binary.dir_writable 0$NL"; fi
  # free bytes for an unprivileged writer: available blocks * block size
  if _fs=$(stat -f -c '%a %S' -- "$_dir" 2>/dev/null); then
    # shellcheck disable=SC2086 # split into fields on purpose (globbing off)
    { set -f; set -- $_fs; set +f; }
    BUF="$BUF""binary.dir_free_bytes $(( $1 * $2 ))$NL"
  fi
else
  BUF="$BUF""binary.dir_exists 0$NL"
fi

kvb errorlog.path_s "$errlog"
if [ -f "$errlog" ]; then
  if [ -n "$i_el" ] && st "$i_el"; then _sz=${ST#* * * * }; _sz=${_sz%%' '*}
  else _sz=$(stat -c '%s' -- "$errlog" 2>/dev/null); fi
  printf '%s' "$BUF""errorlog.exists 1${NL}errorlog.size $_sz${NL}errorlog.tail_hex"
  # one line of hex, up to 1 MiB of the last 20 lines; the blank line that
  # follows is skipped by the parser
  tail -n 20 "$errlog" 2>/dev/null | od -An -v -tx1 -w1048576 -N1048576
  echo
else
  printf '%s' "$BUF""errorlog.exists 0$NL"
fi
echo end
