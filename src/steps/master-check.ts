// What verify needs to know about the master the pid file names, in one
// small round trip (the full facts script costs the host far more).
import type { Transport } from '../transport/transport.js';
import { SHA, sh } from './file-ops.js';

// $1 pid file, $2 1 to ask the running binary for `-v`. Shell builtins read
// /proc (NULs in a cmdline are dropped by read: nginx titles are one string).
const MASTER_CHECK = `set -u
${SHA}
pid=''; IFS= read -r pid 2>/dev/null < "$1" || :
case $pid in ''|*[!0-9]*) echo "nopid"; exit 0 ;; esac
echo "pid $pid"
l=''; IFS= read -r l 2>/dev/null < "/proc/$pid/stat" || :
[ -n "$l" ] || { echo "gone"; exit 0; }
r=\${l##*') '}
echo "state \${r%% *}"
title=''; IFS= read -r title 2>/dev/null < "/proc/$pid/cmdline" || :
case $title in "nginx: master process"*) echo "master 1" ;; *) echo "master 0" ;; esac
echo "sha $(sha "/proc/$pid/exe")"
n=0
for f in /proc/$pid/task/*/children; do
  kids=''; read -r kids 2>/dev/null < "$f" || :
  for c in $kids; do
    t=''; IFS= read -r t 2>/dev/null < "/proc/$c/cmdline" || :
    case $t in "nginx: worker process"*) n=$((n + 1)) ;; esac
  done
done
echo "workers $n"
[ "$2" = 1 ] && echo "version $("/proc/$pid/exe" -v 2>&1)"
exit 0`;

export interface MasterCheck {
  pid?: number;
  live: boolean;
  isMaster: boolean;
  sha256?: string;
  workers: number;
  version?: string;
}

export function parseMasterCheck(out: string): MasterCheck {
  const v = (k: string) => out.split('\n').find((l) => l.startsWith(`${k} `))?.slice(k.length + 1);
  const state = v('state');
  return {
    pid: v('pid') ? Number(v('pid')) : undefined,
    live: state !== undefined && state !== 'Z' && state !== 'X',
    isMaster: v('master') === '1',
    sha256: v('sha'),
    workers: Number(v('workers') ?? 0),
    version: v('version'),
  };
}

export async function checkMaster(t: Transport, pidFile: string, withVersion: boolean): Promise<MasterCheck> {
  return parseMasterCheck(await sh(t, MASTER_CHECK, [pidFile, withVersion ? '1' : '0']));
}
