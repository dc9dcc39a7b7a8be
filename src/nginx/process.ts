import { cmdlineToArgv, decodeStr, hexToBuffer, int, type RawProc } from './format.js';

/** What nginx calls the process, from the title it sets (`nginx: <role> process`). */
export type ProcessRole = 'master' | 'worker' | 'cache-manager' | 'cache-loader' | 'other';

/** Linux task flag PF_FORKNOEXEC: forked and has not exec'd since (see facts.ts, daemon rule). */
export const PF_FORKNOEXEC = 0x40;

export interface ProcessInfo {
  pid: number;
  /** /proc/PID/stat was readable */
  exists: boolean;
  /** one letter from /proc/PID/stat: R S D Z T t X I ... */
  state?: string;
  /** state Z: exited, not reaped (PID 1 may never reap it). Counts as exited. */
  zombie: boolean;
  ppid?: number;
  pgid?: number;
  sid?: number;
  /** controlling terminal (0 = none) */
  ttyNr?: number;
  /** task flags (field 9 of /proc/PID/stat) */
  flags?: number;
  /** clock ticks after boot (field 22) */
  startTime?: number;
  comm?: string;
  /** /proc/PID/cmdline split on NUL */
  cmdline: string[];
  /** cmdline joined by spaces: what `ps` would show */
  title: string;
  role: ProcessRole;
  /** only where the script measured them (wait reports): socket fds held */
  sockets?: number;
  /** ... of which TCP sockets in state ESTABLISHED / LISTEN / any other state */
  tcpEstablished?: number;
  tcpListen?: number;
  tcpOther?: number;
}

export function roleOf(title: string): ProcessRole {
  if (title === 'nginx: master process' || title.startsWith('nginx: master process ')) return 'master';
  if (title.startsWith('nginx: worker process')) return 'worker';
  if (title.startsWith('nginx: cache manager process')) return 'cache-manager';
  if (title.startsWith('nginx: cache loader process')) return 'cache-loader';
  return 'other';
}

export function toProcessInfo(raw: RawProc): ProcessInfo {
  const f = raw.fields;
  const exists = f.get('exists') === '1';
  // p.title_s: the script read an nginx title whole (cmdline = title + NUL padding);
  // p.cmdline_hex: the raw bytes, for anything else.
  const titleS = f.get('title_s');
  const cmdline = titleS !== undefined ? [decodeStr(titleS)] : cmdlineToArgv(hexToBuffer(f.get('cmdline_hex') ?? ''));
  const title = cmdline.join(' ');
  const state = exists ? f.get('state') : undefined;
  const info: ProcessInfo = {
    pid: raw.pid,
    exists,
    zombie: state === 'Z',
    cmdline,
    title,
    role: roleOf(title),
  };
  if (state !== undefined) info.state = state;
  const nums: [keyof ProcessInfo & string, string][] = [
    ['ppid', 'ppid'], ['pgid', 'pgid'], ['sid', 'sid'], ['ttyNr', 'tty'], ['flags', 'flags'],
    ['startTime', 'starttime'], ['sockets', 'sockets'], ['tcpEstablished', 'tcp_established'],
    ['tcpListen', 'tcp_listen'], ['tcpOther', 'tcp_other'],
  ];
  for (const [prop, key] of nums) {
    const n = int(f.get(key));
    if (n !== undefined) (info as unknown as Record<string, number>)[prop] = n;
  }
  const comm = f.get('comm_s');
  if (comm !== undefined) info.comm = decodeStr(comm);
  return info;
}

/** A process that still runs: exists and is not a zombie. */
export function isLive(p: ProcessInfo): boolean {
  return p.exists && !p.zombie;
}
