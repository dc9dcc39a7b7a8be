// plan --offline: the steps of every host walked by the same executor as an
// apply, in its offline mode (every action withheld, no host contacted), so
// the words are the same describers an apply uses; only what a host would
// have told (pids, running builds, pre-flight) is unknown and says so. The
// rollback per phase comes from the same rollback plan an apply runs.
import type { HostFacts } from '../nginx/facts.js';
import type { ResolvedHost } from '../playbook/resolved.js';
import { Events } from '../run/events.js';
import { runStep } from '../run/executor.js';
import { HostRun, type RunContext } from '../run/host-run.js';
import { stepActions, stepLabel } from '../steps/index.js';
import { settledQuietly, type Transport } from '../transport/transport.js';
import { describeRollbackPaths } from './rollback-plan.js';
import { backupKeep } from '../steps/restore-files.js';

export interface OfflineHostPlan {
  steps: { label: string; actions: { description: string; changes: boolean; withheld: boolean }[] }[];
  rollback: { phase: string; actions: string[] }[];
  /** a step that cannot even be planned (e.g. no build for copy-binary's src) */
  problem?: string;
}

// no host: anything that tries to reach one is a bug, said plainly
const NO_HOST: Transport = {
  host: 'offline',
  exec: () => Promise.reject(new Error('offline: no host is contacted')),
  sequence: (commands) => commands.map(() => settledQuietly(Promise.reject(new Error('offline: no host is contacted')))),
  put: () => Promise.reject(new Error('offline: no host is contacted')),
  openTcp: () => Promise.reject(new Error('offline: no host is contacted')),
  close: () => Promise.resolve(),
};

/** What nothing was read from: no master, no pid, no file facts. */
function unknownFacts(h: ResolvedHost): HostFacts {
  const n = h.nginx;
  return {
    uid: -1,
    pidFile: { path: n.pid_file, state: 'absent' },
    oldbinFile: { path: `${n.pid_file}.oldbin`, state: 'absent' },
    master: null,
    oldMaster: null,
    binary: { path: n.binary, exists: false, dirExists: false },
    errorLog: { path: n.error_log, exists: false, tail: [] },
    upgradeInProgress: false,
    blockers: [],
  };
}

/** A new build as the offline plan knows it: hashed only when the file is on this machine. */
export interface OfflineBuild {
  path: string;
  sha256?: string;
  size?: number;
}

export async function offlineHostPlan(h: ResolvedHost, builds: ReadonlyMap<string, OfflineBuild>): Promise<OfflineHostPlan> {
  const events = new Events();
  // no bytes are ever sent offline: only the words need the build
  const binaries = new Map([...builds].map(([src, b]) => [src, { path: b.path, sha256: b.sha256 ?? '', size: b.size ?? 0, bytes: Buffer.alloc(0) }]));
  const ctx: RunContext = { dryRun: true, offline: true, command: 'plan', events, runId: '<run>', stamp: '<UTC time>', binaries };
  const copy = h.steps.find((s) => s['copy-binary'])?.['copy-binary'];
  const run = new HostRun(h, NO_HOST, ctx, unknownFacts(h), { phase: 'clean', oldPid: 0, target: h.nginx.binary, oldSha: '', newSha: (copy && binaries.get(copy.src)?.sha256) ?? '', errorLogSize: 0 });
  const steps: OfflineHostPlan['steps'] = h.steps.map((s) => ({ label: stepLabel(s), actions: [] }));
  events.on((e) => {
    if (e.type === 'action') steps[e.step]?.actions.push({ description: e.description, changes: e.changes, withheld: e.withheld });
  });
  let problem: string | undefined;
  for (const [i, s] of h.steps.entries()) {
    run.step = i;
    try {
      await runStep(run, stepActions(run, s));
    } catch (err) {
      problem = `${stepLabel(s)}: ${(err as Error).message}`;
      break;
    }
  }
  const rollback = describeRollbackPaths({ target: h.nginx.binary, backup: run.state.backup, pidFile: h.nginx.pid_file, modules: run.state.modules, diverted: run.state.diverted, keep: backupKeep(h) });
  return { steps, rollback, ...(problem ? { problem } : {}) };
}
