# The children of a process.
# shellcheck shell=sh disable=SC2034
# (SC2034: CHILDREN are this file's outputs, read by the scripts that include it.)

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
    _ch_r=${_ch_l##*') '}
    # shellcheck disable=SC2086 # split into fields on purpose
    { IFS=' '; set -- $_ch_r; IFS='
'; }
    if [ "${2-}" = "$_ch_want" ]; then CHILDREN="$CHILDREN ${_ch_l%% *}"; fi
  done
  IFS=$_ch_ifs
  set +f
  return 0
}
