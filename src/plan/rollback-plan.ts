// The rollback as data: which compensations, in which order, for how far the
// upgrade got. The same list is run by a failed apply and by `hotswap
// rollback`, and shown by `plan` per phase, with the same words.
//
// The file is restored FIRST in every phase: a hard link and a rename, which
// no full disk can stop, before any wait on a process that may never answer.
// Nothing execs the binary's path between here and the next USR2, so putting
// the old build back early is safe in every phase.
import type { Phase } from '../run/host-run.js';

export type RollbackAction =
  /** the verified backup hard-linked and renamed over the binary */
  | { kind: 'restore' }
  /** the same for each module file copy-binary replaced with the binary */
  | { kind: 'restore-modules' }
  /** remove the dpkg diversions the run added (the package owns its path again) */
  | { kind: 'undivert' }
  /** remove hotswap's backups beyond `keep`, never one this rollback used */
  | { kind: 'prune' }
  /** HUP the old master: with a new binary present it starts fresh workers from its in-memory config */
  | { kind: 'hup-old' }
  /** bounded: the old master has workers again */
  | { kind: 'wait-old-workers' }
  /** QUIT a new master that became ready; stop (TERM, then KILL) the process USR2 started if it never did */
  | { kind: 'stop-new' }
  /** bounded: the old master owns the pid file again, no .oldbin */
  | { kind: 'wait-old-back' }
  /** bounded: the old master has exited (QUIT was sent) */
  | { kind: 'wait-old-gone' }
  /** a second hot upgrade, to the restored file: USR2, wait, WINCH, wait, QUIT, wait */
  | { kind: 'upgrade-back' }
  /** the old build serves, from the old file, with workers, no .oldbin */
  | { kind: 'confirm' };

export const ROLLBACK_PHASES: readonly Exclude<Phase, 'clean'>[] = ['replaced', 'usr2', 'winch', 'quit', 'done'];

/** What the run replaced beside the binary, when known: modules, diversions, backups to prune. */
export interface RollbackExtras {
  modules?: boolean;
  diverted?: boolean;
  prune?: boolean;
}

/**
 * The compensations for `phase`. Modules are restored right after the binary
 * (the same kind of rename, before any wait), then the diversions go; backups
 * are pruned last, once the old build is confirmed.
 */
export function rollbackPlan(phase: Phase, extras: RollbackExtras = {}): RollbackAction[] {
  const core = corePlan(phase);
  if (!core.length) return core;
  const files: RollbackAction[] = [...(extras.modules ? [{ kind: 'restore-modules' as const }] : []), ...(extras.diverted ? [{ kind: 'undivert' as const }] : [])];
  return [core[0]!, ...files, ...core.slice(1), ...(extras.prune ? [{ kind: 'prune' as const }] : [])];
}

function corePlan(phase: Phase): RollbackAction[] {
  switch (phase) {
    case 'clean':
      return [];
    case 'replaced':
      return [{ kind: 'restore' }, { kind: 'confirm' }];
    case 'usr2':
      return [{ kind: 'restore' }, { kind: 'stop-new' }, { kind: 'wait-old-back' }, { kind: 'confirm' }];
    case 'winch':
      return [{ kind: 'restore' }, { kind: 'hup-old' }, { kind: 'wait-old-workers' }, { kind: 'stop-new' }, { kind: 'wait-old-back' }, { kind: 'confirm' }];
    case 'quit':
    case 'done':
      return [{ kind: 'restore' }, { kind: 'wait-old-gone' }, { kind: 'upgrade-back' }, { kind: 'confirm' }];
  }
}

/** What the words need: the values known when the plan is shown (pids may be unknown offline). */
export interface RollbackValues {
  target: string;
  backup?: string;
  oldPid?: number;
  newPid?: number;
  pidFile: string;
  oldSha?: string;
  /** the systemd service that runs nginx, when pre-flight found one */
  unit?: string;
  /** module files replaced with the binary, and their backups */
  modules?: { path: string; backup: string }[];
  /** paths the run diverted */
  diverted?: string[];
  /** backup.keep: how many backups a rollback leaves */
  keep?: number;
}

/** Which extras the values call for. */
export function extrasOf(v: RollbackValues): RollbackExtras {
  return { modules: !!v.modules?.length, diverted: !!v.diverted?.length, prune: v.keep !== undefined };
}

/** Bounds on the rollback's waits on processes: none of them can hold the host forever. */
export const ROLLBACK_WAIT_MS = { oldWorkers: 15_000, oldBack: 15_000, oldGone: 15_000, stopGraceS: 2 };

const pid = (p?: number) => (p ? ` (pid ${p})` : '');
const s = (ms: number) => `${ms / 1000}s`;
const short = (sha?: string) => (sha ? sha.slice(0, 12) : '?');

export function describeRollback(a: RollbackAction, v: RollbackValues): { description: string; changes: boolean } {
  const backup = v.backup ?? `${v.target}.<UTC time>.bak`;
  switch (a.kind) {
    case 'restore':
      return { changes: true, description: `restore ${v.target} from ${backup}: check its sha256${v.oldSha ? ` ${short(v.oldSha)}` : ' against the build that ran before'}, ln ${backup} ${v.target}.hotswap-restore.<pid>, mv it over ${v.target} (a copy only where no link can be made)` };
    case 'restore-modules':
      return { changes: true, description: `restore ${(v.modules ?? []).map((m) => `${m.path} from ${m.backup}`).join(', ')} the same way (sha256 checked, hard link, rename)` };
    case 'undivert':
      return { changes: true, description: `remove the diversion this run added of ${(v.diverted ?? []).join(', ')}: dpkg-divert --local --no-rename --remove, then rm the .distrib copy (the package owns the path again)` };
    case 'prune':
      return { changes: true, description: `remove hotswap's backups beyond the newest ${v.keep} of each file restored (never the one this rollback used)` };
    case 'hup-old':
      return { changes: true, description: `send HUP to the old master${pid(v.oldPid)}: it starts workers again` };
    case 'wait-old-workers':
      return { changes: false, description: `wait up to ${s(ROLLBACK_WAIT_MS.oldWorkers)} until the old master${pid(v.oldPid)} has workers again` };
    case 'stop-new':
      return { changes: true, description: `send QUIT to the new master${pid(v.newPid)}; if it never became ready, stop the process USR2 started (a live child of the old master that has exec'd): TERM, KILL after ${ROLLBACK_WAIT_MS.stopGraceS}s` };
    case 'wait-old-back':
      return { changes: false, description: `wait up to ${s(ROLLBACK_WAIT_MS.oldBack)} until the old master${pid(v.oldPid)} owns ${v.pidFile} again, with no .oldbin` };
    case 'wait-old-gone':
      return { changes: false, description: `wait up to ${s(ROLLBACK_WAIT_MS.oldGone)} until the old master${pid(v.oldPid)} has exited and .oldbin is gone` };
    case 'upgrade-back':
      return { changes: true, description: `hot-upgrade the master in ${v.pidFile} back to ${v.target}: USR2, wait until new-master-ready, WINCH, wait until old-workers-exited, QUIT, wait until old-master-exited; if no master is left, ${v.unit ? `say so, then start it cold: systemctl start ${v.unit} (the only way back to serving; connections were already dropped)` : 'stop and say how to start the old build'}` };
    case 'confirm':
      return { changes: false, description: `check that the master in ${v.pidFile} runs the old build${v.oldSha ? ` (sha256 ${short(v.oldSha)})` : ''} with workers, ${v.target} is that build, and no .oldbin is left` };
  }
}

/** The rollback per phase, in words: what `plan` prints (quit and done take the same path). */
export function describeRollbackPaths(v: RollbackValues): { phase: string; actions: string[] }[] {
  const when: [Exclude<Phase, 'clean'>, string][] = [
    ['replaced', 'after copy-binary, before USR2 (phase replaced)'],
    ['usr2', 'after USR2, before WINCH (phase usr2)'],
    ['winch', 'after WINCH (phase winch)'],
    ['done', 'after QUIT to the old master, or once it exited (phases quit, done)'],
  ];
  return when.map(([p, text]) => ({ phase: text, actions: rollbackPlan(p, extrasOf(v)).map((a) => describeRollback(a, v).description) }));
}
