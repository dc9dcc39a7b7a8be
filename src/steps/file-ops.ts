// Binary files on a host: backup, stage, check, rename into place, restore.
// Each is a constant sh script; paths and digests are positional arguments.
// A file is only ever replaced by rename(2) from a temp file in the same
// directory: `cp` over a running binary fails (ETXTBSY) and a half-written
// binary must never be exec'd.
import { decodeStr, parseLines } from '../nginx/format.js';
import { runScriptOk } from '../remote/run.js';
import type { ExecOptions, Transport } from '../transport/transport.js';

export { RemoteError } from '../remote/run.js';

/** Makes a verified backup, then prunes (src/remote/backup.sh); returns the backups removed. */
export async function backupFile(t: Transport, src: string, dest: string, sha256: string, prune: { dir: string; base: string; keep: number }): Promise<string[]> {
  const out = await runScriptOk(t, 'backup', [src, dest, sha256, prune.dir, prune.base, String(prune.keep)]);
  return (parseLines(out, 'backup').values.get('removed_s') ?? []).map(decodeStr);
}

export interface ConfigTest {
  cwd: string;
  args: string[];
}

/** Checks a staged binary (src/remote/check-staged.sh): its digest, the reference file's owner and mode, `-V` of both builds, and `-t` when asked. */
export async function checkStaged(t: Transport, file: string, sha256: string, ownerFrom: string | null, compareWith: string | null, test: ConfigTest | null): Promise<string> {
  return runScriptOk(t, 'check-staged', checkArgs(file, sha256, ownerFrom, compareWith, test));
}

/** check-staged.sh's positional arguments. */
export function checkArgs(file: string, sha256: string, ownerFrom: string | null, compareWith: string | null, test: ConfigTest | null): string[] {
  return [file, sha256, ownerFrom ?? '-', compareWith ?? '-', test?.cwd ?? '-', ...(test?.args ?? [])];
}

/** The atomic replacement (src/remote/rename.sh). */
export async function renameInto(t: Transport, staged: string, target: string): Promise<void> {
  await runScriptOk(t, 'rename', [staged, target]);
}

/** How a restore put the old build back (src/remote/restore.sh: a hard link where it can). */
export interface Restored {
  how: 'link' | 'copy' | 'moved' | 'moved-nolink';
  /** why the link could not be made (ln's own words) */
  why?: string;
}

export async function restoreFile(t: Transport, backup: string, target: string, sha256: string, opts: ExecOptions = {}): Promise<Restored> {
  return parseRestored(await runScriptOk(t, 'restore', [backup, target, sha256], opts));
}

export function parseRestored(out: string): Restored {
  const line = out.trim().split('\n').pop() ?? '';
  const [how, ...rest] = line.split(' ');
  const why = rest.join(' ').trim() || undefined;
  if (how === 'link' || how === 'copy' || how === 'moved' || how === 'moved-nolink') return { how, ...(why ? { why } : {}) };
  return { how: 'link' };
}

/** The restore in words, for the operator. */
export function restoredText(r: Restored, backup: string, target: string): string {
  switch (r.how) {
    case 'link':
      return `restored ${target} from ${backup} (hard link)`;
    case 'copy':
      return `restored ${target} from ${backup} by a copy: no hard link could be made (${r.why ?? '?'})`;
    case 'moved':
      return `restored ${target} by renaming ${backup} into place: neither a link nor a copy could be made (${r.why ?? '?'}); ${backup} was linked back`;
    case 'moved-nolink':
      return `restored ${target} by renaming ${backup} into place: neither a link nor a copy could be made (${r.why ?? '?'}); ${backup} is gone, ${target} is the only copy of the old build`;
  }
}

export async function removeFile(t: Transport, path: string): Promise<void> {
  await runScriptOk(t, 'remove', [path]);
}

