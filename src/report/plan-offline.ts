// --offline: the plan from the playbook alone, for a review away from the
// fleet. Every host's steps with their resolved values; nothing is contacted,
// so pids, running builds and pre-flight checks are unknown and say so.
import type { ResolvedHost } from '../playbook/resolved.js';
import { signalOf, stepKind } from '../playbook/step-order.js';
import { stepLabel } from '../steps/index.js';
import { DEFAULT_WAIT } from '../steps/wait.js';
import type { PlanDocument } from './plan.js';

/** A new build as the offline plan knows it: its hash only when the file is on this machine. */
export interface BuildSeen {
  path: string;
  sha256?: string;
}

export function offlinePlan(name: string, batches: ResolvedHost[][], builds: ReadonlyMap<string, BuildSeen> = new Map()): PlanDocument {
  return {
    name,
    offline: true,
    newBuildSha256: [...builds.values()].find((b) => b.sha256)?.sha256,
    batches: batches.map((b) => b.map((h) => h.name)),
    hosts: batches.flatMap((b, i) =>
      b.map((h) => ({
        host: h.name,
        batch: i + 1,
        result: 'planned' as const,
        warnings: [],
        rollback: [],
        steps: h.steps.map((s) => ({ label: stepLabel(s), actions: [{ description: describe(h, s, builds), changes: ['backup', 'copy-binary', 'signal'].includes(stepKind(s) ?? ''), withheld: true }] })),
      })),
    ),
  };
}

function describe(h: ResolvedHost, s: ResolvedHost['steps'][number], builds: ReadonlyMap<string, BuildSeen>): string {
  const n = h.nginx;
  switch (stepKind(s)) {
    case 'backup':
      return `copy the file the master execs (expected ${n.binary}) to ${s.backup!.dest ?? `${n.binary}.<UTC time>.bak`}, keep ${s.backup!.keep ?? 3}`;
    case 'copy-binary': {
      const b = builds.get(s['copy-binary']!.src);
      const what = b ? `${b.path} (sha256 ${b.sha256 ?? 'unknown: the file is not on this machine'})` : s['copy-binary']!.src;
      return `upload ${what} beside ${n.binary}, check it${s['copy-binary']!.test_config === false ? '' : ', nginx -t against the running config'}, rename it over ${n.binary}`;
    }
    case 'signal': {
      const { send, to } = signalOf(s)!;
      return `send ${send} to the ${to} (pid from ${n.pid_file}${to === 'old-master' ? ' before the upgrade' : ''})`;
    }
    case 'wait-for-workers': {
      const w = s['wait-for-workers']!;
      return `wait up to ${w.timeout ?? DEFAULT_WAIT[w.until]} until ${w.until}`;
    }
    case 'verify': {
      const v = s.verify!;
      return `check ${[(v.running_binary ?? 'new') !== 'any' ? `the master runs the ${v.running_binary ?? 'new'} build` : '', v.version ? `nginx -v has ${v.version}` : '', ...(v.http ?? []).map((c) => `GET ${c.url} -> ${c.status ?? 200}`)].filter(Boolean).join(', ')}`;
    }
    default:
      return '';
  }
}
