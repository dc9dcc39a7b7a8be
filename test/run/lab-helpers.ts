import { mkdtempSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { startLabFleet, type LabFleet } from '../../lab/fleet.js';

export async function labFleet(hosts: number): Promise<LabFleet> {
  return startLabFleet({ dir: mkdtempSync(join(tmpdir(), 'hotswap-lab-')), hosts });
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** What runs on a lab host now, read from /proc as the test sees it. */
/** hotswap's files beside the binary that must not outlive a run: staged uploads, temp copies (not backups). */
export function leftovers(h: { binaryPath: string }): string[] {
  return readdirSync(dirname(h.binaryPath)).filter((f) => f.includes('hotswap'));
}

export function hostState(h: { pidFile: string; binaryPath: string }) {
  const pid = Number(readFileSync(h.pidFile, 'utf8').trim());
  const exeSha = sha256File(`/proc/${pid}/exe`);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  const children = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const s = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map((d) => readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ').trim());
  return {
    pid,
    state,
    exeSha,
    fileSha: sha256File(h.binaryPath),
    oldbin: existsSync(`${h.pidFile}.oldbin`),
    workers: children.filter((c) => c.startsWith('nginx: worker process') && !c.includes('shutting down')).length,
    backups: readdirSync(join(h.binaryPath, '..')).filter((f) => f.endsWith('.bak')),
  };
}

/** The host serves its old build again from the same master, the old file back, no .oldbin, workers up. */
export function expectServingOld(fleet: LabFleet, i: number, beforePid: number): void {
  const after = hostState(fleet.hosts[i]);
  expect(after.pid, 'the old master serves on').to.equal(beforePid);
  expect(after.exeSha, 'the running build').to.equal(fleet.builds.old.sha256);
  expect(after.fileSha, 'the binary file').to.equal(fleet.builds.old.sha256);
  expect(after.oldbin, '.oldbin left').to.equal(false);
  expect(after.workers, 'serving workers').to.equal(2);
}
