// The rollout strategy: batches in order, hosts in parallel within a batch up
// to the concurrency, and a halt when a batch fails above the threshold. Knows
// nothing of nginx or SSH: what happens on one host is `runHost`'s business.
import { Exit, worstExit, type ExitCode } from '../cli/exit.js';
import { parseDuration } from '../playbook/duration.js';
import type { ResolvedHost } from '../playbook/resolved.js';
import type { Playbook } from '../playbook/schema.js';
import type { Events, HostResult } from './events.js';
import { pool } from './pool.js';
import { makeBatches } from '../plan/batches.js';

export interface HostOutcome {
  host: string;
  result: HostResult;
  ms: number;
  message?: string;
}

export interface FleetOptions {
  events: Events;
  concurrency?: number;
  /** asked between batches when strategy.pause is `confirm` */
  confirm: (question: string) => Promise<boolean>;
  /** true once the run should start no new host (SIGINT/SIGTERM) */
  stopping?: () => boolean;
}

export interface FleetOutcome {
  hosts: HostOutcome[];
  halted: boolean;
  exitCode: ExitCode;
}

const EXIT_OF: Record<HostResult, ExitCode> = {
  ok: Exit.ok,
  changed: Exit.ok,
  planned: Exit.ok,
  skipped: Exit.ok,
  failed: Exit.failed,
  rolled_back: Exit.failed,
  unreachable: Exit.unreachable,
  refused: Exit.refused,
  rollback_failed: Exit.rollbackFailed,
};
const FAILED: HostResult[] = ['failed', 'rolled_back', 'unreachable', 'refused', 'rollback_failed'];

export async function runFleet(playbook: Playbook, hosts: ResolvedHost[], opts: FleetOptions, runHost: (host: ResolvedHost, batch: number) => Promise<HostOutcome>): Promise<FleetOutcome> {
  const strategy = playbook.strategy ?? {};
  const batches = makeBatches(hosts, strategy.serial);
  const concurrency = opts.concurrency ?? strategy.concurrency ?? 20;
  const threshold = strategy.max_fail_percentage ?? 0;
  const outcomes: HostOutcome[] = [];
  let halted = false;
  let interrupted = false;
  for (const [b, batch] of batches.entries()) {
    if (halted || interrupted) {
      for (const h of batch) outcomes.push({ host: h.name, result: 'skipped', ms: 0, message: halted ? 'not started: the rollout was halted' : 'not started: interrupted' });
      continue;
    }
    if (b > 0 && !(await pauseBetween(strategy.pause, b, opts))) {
      halted = true;
      for (const h of batch) outcomes.push({ host: h.name, result: 'skipped', ms: 0, message: 'not started: the operator declined to go on' });
      continue;
    }
    opts.events.emit({ type: 'batch-start', batch: b + 1, hosts: batch.map((h) => h.name) });
    const results = await pool(batch, concurrency, (h) => runHost(h, b + 1), opts.stopping);
    batch.forEach((h, i) => outcomes.push(results[i] ?? { host: h.name, result: 'skipped', ms: 0, message: 'not started: interrupted' }));
    interrupted = results.some((r) => r === undefined) || !!opts.stopping?.();
    const failed = results.filter((r) => r && FAILED.includes(r.result)).length;
    halted = (failed * 100) / batch.length > threshold && b < batches.length - 1;
    opts.events.emit({ type: 'batch-end', batch: b + 1, failed, total: batch.length, halted });
  }
  const codes = outcomes.map((o) => EXIT_OF[o.result]);
  if (halted) codes.push(Exit.refused);
  if (interrupted) codes.push(Exit.interrupted);
  return { hosts: outcomes, halted, exitCode: worstExit(codes) };
}

async function pauseBetween(pause: string | undefined, batch: number, opts: FleetOptions): Promise<boolean> {
  if (!pause) return true;
  if (pause === 'confirm') return opts.confirm(`batch ${batch} done; start batch ${batch + 1}?`);
  const ms = parseDuration(pause) ?? 0;
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  return true;
}
