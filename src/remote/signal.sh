# SIGNAL: send one allowlisted signal to a pid, only if it is a live nginx master.
# Args: signal pid. Prints one line; the exit code says what happened
# (SIGNAL_EXIT in src/nginx/signal.ts).
set -u
export LC_ALL=C
. ./lib/proc.sh

sig=${1-} pid=${2-}
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
