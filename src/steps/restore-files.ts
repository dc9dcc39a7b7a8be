// The rollback's file work beyond the binary (src/plan/rollback-plan.ts:
// restore-modules, undivert, prune): the modules copy-binary replaced go back
// from their backups, the diversions the run added go, and old backups are
// pruned to `keep` once the old build serves again.
import { basename, dirname } from 'node:path';
import type { ResolvedHost } from '../playbook/resolved.js';
import type { HostRun } from '../run/host-run.js';
import { restoreFile, restoredText } from './file-ops.js';
import { pruneBackups, removeDiversion } from './package.js';

/** backup.keep of the host's steps (default 3): what a rollback prunes to. */
export function backupKeep(host: Pick<ResolvedHost, 'steps'>): number {
  return host.steps.find((s) => s.backup)?.backup?.keep ?? 3;
}

/** Restores every module from its verified backup; all are tried, then the failures are reported together. */
export async function restoreModules(run: HostRun, done: string[]): Promise<void> {
  const failed: string[] = [];
  for (const m of run.state.modules ?? []) {
    try {
      done.push(restoredText(await restoreFile(run.t, m.backup, m.path, m.oldSha), m.backup, m.path));
    } catch (err) {
      failed.push(`${m.path} from ${m.backup}: ${(err as Error).message}`);
    }
  }
  if (failed.length) throw new Error(`module files could not be restored: ${failed.join('; ')}`);
}

/** Removes the diversions this run added (the binary and modules were restored first). */
export async function undivert(run: HostRun, done: string[]): Promise<void> {
  for (const path of run.state.diverted ?? []) {
    await removeDiversion(run.t, path);
    done.push(`removed the diversion of ${path}`);
  }
  run.state.diverted = [];
}

/**
 * Prunes the backups of the binary and of each module to backup.keep, never
 * the ones this rollback used (the journal's last upgrade points at them). A
 * failure is a warning: the old build serves either way.
 */
export async function pruneAfterRollback(run: HostRun, done: string[]): Promise<void> {
  const keep = backupKeep(run.host);
  const files = [
    ...(run.state.backup ? [{ file: run.state.target, backup: run.state.backup }] : []),
    ...(run.state.modules ?? []).map((m) => ({ file: m.path, backup: m.backup })),
  ];
  const protect = files.map((f) => f.backup);
  for (const f of files) {
    try {
      const gone = await pruneBackups(run.t, dirname(f.backup), basename(f.file), keep, protect);
      if (gone.length) done.push(`pruned ${gone.length} old backup${gone.length > 1 ? 's' : ''} of ${f.file}`);
    } catch (err) {
      run.warn(`old backups of ${f.file} in ${dirname(f.backup)} could not be pruned: ${(err as Error).message}`);
    }
  }
}
