// What verify needs to know about the master the pid file names, in one
// small round trip (the full facts script costs the host far more).
import type { Transport } from '../transport/transport.js';
import { sh } from './file-ops.js';

// $1 pid file, $2 1 to ask the running binary for `-v`.
const MASTER_CHECK = `set -u
pid=$(cat -- "$1" 2>/dev/null | tr -dc 0-9)
[ -n "$pid" ] || { echo "nopid"; exit 0; }
echo "pid $pid"
[ -r "/proc/$pid/stat" ] || { echo "gone"; exit 0; }
st=$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f1)
echo "state $st"
title=$(tr '\\0' ' ' < "/proc/$pid/cmdline")
case "$title" in "nginx: master process"*) echo "master 1" ;; *) echo "master 0" ;; esac
echo "sha $(sha256sum < "/proc/$pid/exe" | cut -d' ' -f1)"
n=0
for c in $(cat /proc/$pid/task/*/children 2>/dev/null); do
  case "$(tr '\\0' ' ' < "/proc/$c/cmdline" 2>/dev/null)" in "nginx: worker process"*) n=$((n + 1)) ;; esac
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
