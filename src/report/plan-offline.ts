// --offline: the plan from the playbook alone, for a review away from the
// fleet. Each host's steps are walked by the executor in its offline mode
// (src/plan/offline.ts): the same steps and the same words as an apply, every
// action withheld, nothing contacted; pids, running builds and pre-flight
// checks are unknown and say so. The rollback per phase is the one apply runs.
import type { ResolvedHost } from '../playbook/resolved.js';
import { offlineHostPlan, type OfflineBuild } from '../plan/offline.js';
import type { PlanDocument, PlannedHost } from './plan.js';

/** A new build as the offline plan knows it: its hash only when the file is on this machine. */
export type BuildSeen = OfflineBuild;

export async function offlinePlan(name: string, batches: ResolvedHost[][], builds: ReadonlyMap<string, BuildSeen> = new Map()): Promise<PlanDocument> {
  const hosts: PlannedHost[] = [];
  for (const [i, batch] of batches.entries()) {
    for (const h of batch) {
      const p = await offlineHostPlan(h, builds);
      hosts.push({ host: h.name, batch: i + 1, result: p.problem ? 'refused' : 'planned', ...(p.problem ? { message: p.problem } : {}), warnings: [], steps: p.steps, rollback: p.rollback });
    }
  }
  return {
    name,
    offline: true,
    newBuildSha256: [...builds.values()].find((b) => b.sha256)?.sha256,
    batches: batches.map((b) => b.map((h) => h.name)),
    hosts,
  };
}
