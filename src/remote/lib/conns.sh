# What a process holds open, as lines of a process block.
# shellcheck shell=sh

# emit_conns PID: what a (worker) process holds open. Socket fds alone overcount
# (listening sockets and the master channel are sockets too), so the socket inodes
# of its fds are looked up in the TCP tables of its network namespace and counted
# by state: 01 ESTABLISHED, 0A LISTEN, anything else (CLOSE_WAIT, FIN_WAIT...) "other".
emit_conns() {
  _cp=$1
  if ! ls "/proc/$_cp/fd" >/dev/null 2>&1; then echo "p.fds_unreadable 1"; return 0; fi
  # ls -l shows "N -> socket:[INODE]"; keep "socket: INODE", "pipe: INODE", ...
  # (SC2012 is about odd file names: these are fd numbers, their targets the kernel's)
  # shellcheck disable=SC2012
  _cs=$(ls -l "/proc/$_cp/fd" 2>/dev/null | tr -s ' ' | cut -s -d'>' -f2 | tr -d ' ]' | tr '[' ' ')
  _n=0 _ours='' _est=0 _lis=0 _oth=0
  # shellcheck disable=SC2086 # split into fields on purpose (globbing off)
  { set -f; set -- $_cs; set +f; }
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
      case ${_h##* } in 0|'') continue ;; esac
      case ${_h%% *} in
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
