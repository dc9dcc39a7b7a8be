// backup: a verified copy of the build the master runs, where rollback finds it.
import { basename, dirname } from 'node:path';
import type { BackupStep } from '../playbook/schema.js';
import { short, type HostRun } from '../run/host-run.js';
import { change, type StepGen } from '../run/action.js';
import { backupFile } from './file-ops.js';

export function* backup(run: Pick<HostRun, 'host' | 'state' | 'facts' | 'ctx'>, spec: BackupStep): StepGen {
  const { state, host } = run;
  const binary = host.nginx.binary;
  const dest = spec.dest ?? `${binary}.${run.ctx.stamp}.bak`;
  // The file on disk may already differ from what runs (a package upgrade
  // replaced it): then the running image itself is what must be kept.
  const onDisk = !state.oldPid || run.facts.binary.sha256 === state.oldSha; // no pid: an offline plan, the file is what is known
  const src = onDisk ? state.target : `/proc/${state.oldPid}/exe`;
  const keep = spec.keep ?? 3;
  const prune = { dir: dirname(binary), base: basename(binary), keep };
  const pruned: string[] = yield change({
    description: `copy ${src} to ${dest} and verify its sha256 ${state.oldSha ? short(state.oldSha) : 'against the running build'}; keep the newest ${keep} backups named ${basename(binary)}.<UTC time>.bak in ${dirname(binary)}`,
    command: { script: 'BACKUP (file-ops.ts)', args: [src, dest, state.oldSha, prune.dir, prune.base, String(keep)] },
    run: (t) => backupFile(t, src, dest, state.oldSha, prune),
    planned: [],
  });
  state.backup = dest;
  return `${dest}${onDisk ? '' : ' (from the running image: the file on disk differs)'}${pruned.length ? `; pruned ${pruned.length}` : ''}`;
}
