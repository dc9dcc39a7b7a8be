// What verify needs to know about the master the pid file names, in one
// small round trip (the full facts script costs the host far more).
import type { Transport } from '../transport/transport.js';
import { decodeStr, int, parseLines } from '../nginx/format.js';
import { runScriptOk } from '../remote/run.js';

export interface MasterCheck {
  pid?: number;
  live: boolean;
  isMaster: boolean;
  sha256?: string;
  workers: number;
  version?: string;
}

/** src/remote/master-check.sh's output. */
export function parseMasterCheck(out: string): MasterCheck {
  const values = parseLines(out, 'master').values;
  const v = (k: string) => values.get(k)?.[0];
  const state = v('state');
  const version = v('version_s');
  return {
    pid: int(v('pid')),
    live: state !== undefined && state !== 'Z' && state !== 'X',
    isMaster: v('master') === '1',
    sha256: v('sha256'),
    workers: int(v('workers')) ?? 0,
    version: version === undefined ? undefined : decodeStr(version),
  };
}

export async function checkMaster(t: Transport, pidFile: string, withVersion: boolean): Promise<MasterCheck> {
  return parseMasterCheck(await runScriptOk(t, 'master-check', [pidFile, withVersion ? '1' : '0']));
}
