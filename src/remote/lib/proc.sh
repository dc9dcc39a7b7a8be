# Reading one process from /proc with builtins only.
# shellcheck shell=sh disable=SC2034
# (SC2034: the PS_* and PT variables are this file's outputs, read by the scripts that include it.)

# pstat PID: parse /proc/PID/stat into PS_* variables; status 1 if there is no such
# process. comm (field 2) may contain spaces, ')' and '(' , so the fixed fields are
# taken after the LAST ') ' and comm is what lies between the first '(' and the last ')'.
pstat() {
  PS_STATE='' PS_PPID='' PS_PGID='' PS_SID='' PS_TTY='' PS_FLAGS='' PS_START='' PS_COMM=''
  _ps_l=''
  read -r _ps_l 2>/dev/null < "/proc/$1/stat" || [ -n "$_ps_l" ] || return 1
  case $_ps_l in *') '*) ;; *) return 1 ;; esac
  _ps_c=${_ps_l#*'('}; PS_COMM=${_ps_c%')'*}
  _ps_r=${_ps_l##*') '}
  # shellcheck disable=SC2086 # split into fields on purpose (globbing off)
  { set -f; set -- $_ps_r; set +f; }
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
