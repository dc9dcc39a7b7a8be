# MASTER-CHECK: what verify needs to know about the master a pid file names, in
# one small round trip (facts.sh costs the host far more).
# Args: pid-file, 1 to ask the running binary for `-v`.
# Output: the `#hotswap-master 1` format (parsed by src/steps/master-check.ts).
# Shell builtins read /proc (NULs in a cmdline are dropped by read: nginx
# titles are one string).
set -u
export LC_ALL=C
. ./lib/kv.sh
. ./lib/sha.sh

echo '#hotswap-master 1'
pid=''; IFS= read -r pid 2>/dev/null < "$1" || :
case $pid in ''|*[!0-9]*) echo end; exit 0 ;; esac
echo "pid $pid"
l=''; IFS= read -r l 2>/dev/null < "/proc/$pid/stat" || :
[ -n "$l" ] || { echo end; exit 0; }
r=${l##*') '}
echo "state ${r%% *}"
title=''; IFS= read -r title 2>/dev/null < "/proc/$pid/cmdline" || :
case $title in "nginx: master process"*) echo "master 1" ;; *) echo "master 0" ;; esac
echo "sha256 $(sha "/proc/$pid/exe")"
n=0
for f in "/proc/$pid/task/"*/children; do
  kids=''; read -r kids 2>/dev/null < "$f" || :
  for c in $kids; do
    t=''; IFS= read -r t 2>/dev/null < "/proc/$c/cmdline" || :
    case $t in "nginx: worker process"*) n=$((n + 1)) ;; esac
  done
done
echo "workers $n"
[ "$2" != 1 ] || kv version_s "$("/proc/$pid/exe" -v 2>&1)"
echo end
