// A per-host lock, taken atomically on the host (mkdir) before any change and
// released on every exit path. A lock whose holder is gone is reported as
// stale and broken only when asked (--break-lock), never silently.
import { hostname, userInfo } from 'node:os';
import { dirname } from 'node:path';
import type { NginxPaths } from '../playbook/resolved.js';
import type { Transport } from '../transport/transport.js';
import { RemoteError, sh } from '../steps/file-ops.js';
import { journalPath, parseJournal, type JournalEntry } from './journal.js';

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

// $1 lock dir, $2 owner (JSON), $3 1 to break a lock that is held, $4 the
// journal, whose tail follows a taken lock (it saves the run a round trip).
// The journal is kept to its last 2000 lines here, once per run, so that
// appending to it is a single write.
const TAKE = `set -u
j=$4
journal() {
  echo '--- journal'
  [ -f "$j" ] || exit 0
  n=$(wc -l < "$j")
  if [ "$n" -gt 4000 ]; then tail -n 2000 -- "$j" > "$j.tmp.$$" && mv -f -- "$j.tmp.$$" "$j"; fi
  tail -n 400 -- "$j"; exit 0
}
if err=$(mkdir -- "$1" 2>&1); then printf '%s\\n' "$2" > "$1/owner" && echo acquired && journal; fi
# not held by anyone: we may not create it (permissions, a missing directory)
[ -d "$1" ] || { printf '%s\\n' "$err" >&2; exit 4; }
if [ "$3" = 1 ]; then
  printf 'broke: '; cat -- "$1/owner" 2>/dev/null || echo '{}'
  rm -rf -- "$1" && mkdir -- "$1" && printf '%s\\n' "$2" > "$1/owner" && journal
  exit 1
fi
printf 'held: '; cat -- "$1/owner" 2>/dev/null || echo '{}'
exit 3`;

// $1 lock dir, $2 run id, $3 the journal, $4 a last journal line or "":
// appends the line, then removes the lock only if this run holds it.
const RELEASE = `set -u
[ -z "$4" ] || printf '%s\\n' "$4" >> "$3"
[ -d "$1" ] || exit 0
o=''; IFS= read -r o 2>/dev/null < "$1/owner" || :
case $o in *"\\"run\\":\\"$2\\""*) rm -rf -- "$1" ;; esac
exit 0`;

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
export async function takeLock(t: Transport, nginx: NginxPaths, owner: LockOwner, breakIt: boolean): Promise<{ broke?: string; journal: JournalEntry[] }> {
  const path = lockPath(nginx);
  const r = await t.exec(['sh', '-c', TAKE, 'hotswap', path, JSON.stringify(owner), breakIt ? '1' : '0', journalPath(nginx)], { timeoutMs: 30_000 });
  if (r.code === 0) {
    const [head, tail = ''] = r.stdout.split('--- journal\n');
    const broke = head.startsWith('broke: ') ? `broke the lock ${path} held by ${describeOwner(parseOwner(head.slice(7).split('\n')[0]))}` : undefined;
    return { broke, journal: parseJournal(tail) };
  }
  if (r.code === 4) throw new LockHeld({}, false, `cannot create the lock ${path}: ${r.stderr.trim()} (the login user must be able to write beside the error log; or use ssh.become: sudo)`);
  if (r.code !== 3) throw new RemoteError(`cannot take the lock ${path}: ${r.stderr.trim() || `exit ${r.code}`}`, r.code);
  const held = parseOwner(r.stdout.slice(6));
  const stale = isStale(held);
  throw new LockHeld(held, stale, `locked: ${path} is held by ${describeOwner(held)}${stale ? `; that process is gone (stale lock): pass --break-lock to break it` : '; if that run is gone, pass --break-lock to break it'}`);
}

/** Releases this run's lock; `lastEntry`, the run's closing journal line, is written first in the same round trip. */
export async function releaseLock(t: Transport, nginx: NginxPaths, run: string, lastEntry = ''): Promise<void> {
  await sh(t, RELEASE, [lockPath(nginx), run, journalPath(nginx), lastEntry]);
}

function parseOwner(text: string): Partial<LockOwner> {
  try {
    return JSON.parse(text.trim()) as Partial<LockOwner>;
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
