// backup: a verified copy of the build the master runs, where rollback finds it.
// A package-owned binary is backed up outside the package's directories
// (/var/backups/hotswap/... by default): backups beside /usr/sbin/nginx are
// seen by dpkg and on every admin's PATH.
import { dirname } from 'node:path';
import type { BackupStep } from '../playbook/schema.js';
import { short, type HostRun } from '../run/host-run.js';
import { change, type StepGen } from '../run/action.js';
import { backupFile } from './file-ops.js';
import { ownershipNote } from '../nginx/package-owner.js';
import { must, ownerOf, placeBackup } from './package.js';

export function* backup(run: Pick<HostRun, 'host' | 'state' | 'facts' | 'ctx' | 'warn'>, spec: BackupStep): StepGen {
  const { state } = run;
  const owner = yield* ownerOf(run, state.target);
  const note = ownershipNote(owner, run.host.package ?? 'keep', state.target);
  if (note.text) run.warn(note.text);
  const place = placeBackup(state.target, owner !== null && owner.packages.length > 0, run.ctx.stamp, spec);
  // The file on disk may already differ from what runs (a package upgrade
  // replaced it): then the running image itself is what must be kept.
  const onDisk = !state.oldPid || run.facts.binary.sha256 === state.oldSha; // no pid: an offline plan, the file is what is known
  const src = onDisk ? state.target : `/proc/${state.oldPid}/exe`;
  const keep = spec.keep ?? 3;
  const prune = { dir: place.dir, base: place.base, keep };
  const mkdir = place.dir !== dirname(state.target);
  const pruned: string[] = yield change({
    description: `${mkdir ? `create ${place.dir} (mode 0700) if missing (${place.from}), ` : ''}copy ${src} to ${place.dest} and verify its sha256 ${state.oldSha ? short(state.oldSha) : 'against the running build'}; keep the newest ${keep} backups named ${place.base}.<UTC time>.bak in ${place.dir}`,
    command: { script: 'src/remote/backup.sh', args: [src, place.dest, state.oldSha, prune.dir, prune.base, String(keep)] },
    run: async (t) => {
      if (mkdir) await must(t, ['mkdir', '-p', '-m', '0700', '--', place.dir]);
      return backupFile(t, src, place.dest, state.oldSha, prune);
    },
    planned: [],
  });
  state.backup = place.dest;
  return `${place.dest}${onDisk ? '' : ' (from the running image: the file on disk differs)'}${pruned.length ? `; pruned ${pruned.length}` : ''}`;
}
