// A per-host lock, taken atomically on the host (mkdir) before any change and
// released on every exit path. A lock whose holder is gone is reported as
// stale and broken only when asked (--break-lock), never silently.
import { hostname, userInfo } from 'node:os';
import { dirname } from 'node:path';
import type { NginxPaths } from '../playbook/resolved.js';
import type { Command, ExecResult, Transport } from '../transport/transport.js';
import { decodeStr, parseLines } from '../nginx/format.js';
import { RemoteError, runCommand, runScriptOk, scriptCommand } from '../remote/run.js';
import { journalIn, journalPath, type JournalEntry } from './journal.js';

export interface LockOwner {
  run: string;
  user: string;
  control: string;
  pid: number;
  since: string;
  command: string;
}

export function lockPath(nginx: NginxPaths): string {
  return `${dirname(nginx.error_log)}/hotswap.lock`;
}

export class LockHeld extends Error {
  constructor(readonly owner: Partial<LockOwner>, readonly stale: boolean, message: string) {
    super(message);
    this.name = 'LockHeld';
  }
}

export function ownerFor(run: string, command: string): LockOwner {
  return { run, user: userInfo().username, control: hostname(), pid: process.pid, since: new Date().toISOString(), command };
}

/**
 * Takes the lock or throws LockHeld saying who holds it, since when, and
 * whether it is stale. Returns the journal's tail, and what was broken.
 */
export async function takeLock(t: Transport, nginx: NginxPaths, owner: LockOwner, breakIt: boolean): Promise<LockTaken> {
  return lockTaken(nginx, await runCommand(t, takeLockCommand(nginx, owner, breakIt)));
}

export interface LockTaken {
  broke?: string;
  journal: JournalEntry[];
}

/** src/remote/lock-take.sh: mkdir, and the journal's tail once it is ours (to run alone or first in a sequence). */
export function takeLockCommand(nginx: NginxPaths, owner: LockOwner, breakIt: boolean): Command {
  return scriptCommand('lock-take', [lockPath(nginx), JSON.stringify(owner), breakIt ? '1' : '0', journalPath(nginx)], { timeoutMs: 30_000 });
}

/** takeLockCommand's result: the lock taken, or LockHeld. */
export function lockTaken(nginx: NginxPaths, r: ExecResult): LockTaken {
  const path = lockPath(nginx);
  if (r.code === 0) {
    const values = parseLines(r.stdout, 'lock').values;
    const broke = values.get('result')?.[0] === 'broke' ? `broke the lock ${path} held by ${describeOwner(ownerIn(r.stdout))}` : undefined;
    return { broke, journal: journalIn(r.stdout, 'lock') };
  }
  if (r.code === 4) throw new LockHeld({}, false, `cannot create the lock ${path}: ${r.stderr.trim()} (the login user must be able to write beside the error log; or use ssh.become: sudo)`);
  if (r.code !== 3) throw new RemoteError(`cannot take the lock ${path}: ${r.stderr.trim() || `exit ${r.code}`}`, r.code);
  const held = ownerIn(r.stdout);
  const stale = isStale(held);
  throw new LockHeld(held, stale, `locked: ${path} is held by ${describeOwner(held)}${stale ? `; that process is gone (stale lock): pass --break-lock to break it` : '; if that run is gone, pass --break-lock to break it'}`);
}

/** Releases this run's lock (src/remote/lock-release.sh); `lastEntry`, the run's closing journal line, is written first in the same round trip. */
export async function releaseLock(t: Transport, nginx: NginxPaths, run: string, lastEntry = ''): Promise<void> {
  await runScriptOk(t, 'lock-release', [lockPath(nginx), run, journalPath(nginx), lastEntry]);
}

/** The holder lock-take.sh found (its `owner_s`, the owner file's JSON). */
function ownerIn(stdout: string): Partial<LockOwner> {
  try {
    return JSON.parse(decodeStr(parseLines(stdout, 'lock').values.get('owner_s')?.[0] ?? '={}').trim()) as Partial<LockOwner>;
  } catch {
    return {};
  }
}

export function describeOwner(o: Partial<LockOwner>): string {
  const ago = o.since ? Math.round((Date.now() - Date.parse(o.since)) / 1000) : undefined;
  return `${o.user ?? '?'}@${o.control ?? '?'} (pid ${o.pid ?? '?'}, ${o.command ?? 'hotswap'}) since ${o.since ?? '?'}${ago !== undefined ? ` (${ago}s ago)` : ''}`;
}

// Only a holder on this very machine can be proven gone.
function isStale(o: Partial<LockOwner>): boolean {
  if (o.control !== hostname() || !o.pid) return false;
  try {
    process.kill(o.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
