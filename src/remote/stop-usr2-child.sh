# STOP-USR2-CHILD: stop the process USR2 started when it never became a
# serving master (a new build that hangs at start). Args: old-master-pid
# child-pid seconds. Re-checked on the host right before each kill: the pid
# must be a live child of the old master that has exec'd (no PF_FORKNOEXEC),
# which nginx only ever does for USR2. TERM (with CONT, for a stopped one),
# then KILL after the given seconds. Prints one line:
# `gone`, `stopped TERM|KILL <pid>`, or `refused: <why>` (exit 3).
set -u
export LC_ALL=C
. ./lib/proc.sh

old=${1-} pid=${2-} secs=${3-2}
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
