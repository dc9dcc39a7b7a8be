# A process block of the output format: `proc SCOPE PID` then `p.FIELD VALUE` lines.
# shellcheck shell=sh disable=SC2034
# (SC2034: PB_OK and PT are this file's outputs, read by the scripts that include it.)

. ./lib/kv.sh
. ./lib/proc.sh

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
  BUF="$BUF""p.exists 1${NL}p.state $PS_STATE${NL}p.ppid $PS_PPID${NL}p.pgid $PS_PGID${NL}p.sid $PS_SID${NL}p.tty $PS_TTY${NL}p.flags $PS_FLAGS${NL}p.starttime $PS_START$NL"
  kvb p.comm_s "$PS_COMM"
  _pb_t='' _pb_r=0
  IFS= read -r _pb_t 2>/dev/null < "/proc/$2/cmdline" || _pb_r=1
  case $_pb_r$_pb_t in
    '1nginx: '*) kvb p.title_s "$_pb_t" ;;
    *) BUF="$BUF""p.cmdline_hex $(hexw "/proc/$2/cmdline" 8192)$NL" ;;
  esac
  # PT as ptitle sets it (trailing blanks dropped), so the caller need not read again
  PT=$_pb_t
  while :; do case $PT in *' '|*'	') PT=${PT%?} ;; *) break ;; esac; done
  return 0
}

# emit_proc SCOPE PID: print a process block.
emit_proc() { BUF=''; pblock "$1" "$2"; printf '%s' "$BUF"; }
