// The rollout strategy: batches in order, hosts in parallel within a batch up
// to the concurrency, and a halt when a batch fails above the threshold. Knows
// nothing of nginx or SSH: what happens on one host is `runHost`'s business.
import { Exit, worstExit, type ExitCode } from '../errors.js';
import { parseDuration } from '../playbook/duration.js';
import type { ResolvedHost } from '../playbook/resolved.js';
import type { Playbook } from '../playbook/schema.js';
import type { Events, HostResult } from './events.js';
import { pool } from './pool.js';
import { makeBatches } from '../plan/batches.js';

// Why: the one shape every host's run ends in, whatever happened on it.
export interface HostOutcome {
  host: string;
  result: HostResult;
  ms: number;
  message?: string;
  /** 1-based; set by runFleet */
  batch?: number;
}

// Why: what the CLI hands the strategy besides the hosts (events, overrides, the operator).
export interface FleetOptions {
  events: Events;
  /** --concurrency: overrides strategy.concurrency */
  concurrency?: number;
  /** asked between batches when strategy.pause is `confirm` */
  confirm: (question: string) => Promise<boolean>;
  /** true once the run should start no new host (SIGINT/SIGTERM) */
  stopping?: () => boolean;
  /** waits between batches (tests pass an instant one) */
  sleep?: (ms: number, stopping: () => boolean) => Promise<void>;
}

// Why: the recap, the report and the exit code are all read off this.
export interface FleetOutcome {
  /** every host, in batch order, with its batch */
  hosts: HostOutcome[];
  /** the threshold or the operator stopped the rollout before its last batch */
  halted: boolean;
  /** why it halted, for the operator */
  haltReason?: string;
  interrupted: boolean;
  exitCode: ExitCode;
}

// Why: the precedence of SPEC.md's exit codes starts from each host's result.
export const EXIT_OF: Record<HostResult, ExitCode> = {
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

// Why: what counts against max_fail_percentage: every host that did not end serving the target build by design.
export const COUNTS_AS_FAILED: readonly HostResult[] = ['failed', 'rolled_back', 'unreachable', 'refused', 'rollback_failed'];

// Why: SPEC.md's default for strategy.concurrency, shown in the summary and the report.
export const DEFAULT_CONCURRENCY = 20;

// Why: the only place that decides which host starts when, and when the rollout stops.
export async function runFleet(playbook: Playbook, hosts: ResolvedHost[], opts: FleetOptions, runHost: (host: ResolvedHost, batch: number) => Promise<HostOutcome>): Promise<FleetOutcome> {
  const strategy = playbook.strategy ?? {};
  const batches = makeBatches(hosts, strategy.serial);
  const concurrency = opts.concurrency ?? strategy.concurrency ?? DEFAULT_CONCURRENCY;
  const threshold = strategy.max_fail_percentage ?? 0;
  const stopping = opts.stopping ?? (() => false);
  const outcomes: HostOutcome[] = [];
  let haltReason: string | undefined;
  let interrupted = false;

  const skip = (b: number, batch: ResolvedHost[], why: string) => {
    opts.events.emit({ type: 'batch-skipped', batch: b + 1, hosts: batch.map((h) => h.name), reason: why });
    for (const h of batch) outcomes.push({ host: h.name, result: 'skipped', ms: 0, message: `not started: ${why}`, batch: b + 1 });
  };

  for (const [b, batch] of batches.entries()) {
    if (haltReason || interrupted) {
      skip(b, batch, haltReason ? 'the rollout was halted' : 'interrupted');
      continue;
    }
    if (b > 0) {
      const go = await pauseBetween(strategy.pause, b, opts, stopping);
      if (go !== true) {
        haltReason = go;
        skip(b, batch, go);
        continue;
      }
    }
    if (stopping()) {
      interrupted = true;
      skip(b, batch, 'interrupted');
      continue;
    }
    opts.events.emit({ type: 'batch-start', batch: b + 1, hosts: batch.map((h) => h.name) });
    const results = await pool(batch, concurrency, (h) => guarded(h, b + 1, runHost, opts.events), stopping);
    batch.forEach((h, i) => outcomes.push({ ...(results[i] ?? { host: h.name, result: 'skipped', ms: 0, message: 'not started: interrupted' }), batch: b + 1 }));
    interrupted = results.some((r) => r === undefined) || stopping();
    const failed = results.filter((r) => r && COUNTS_AS_FAILED.includes(r.result)).length;
    const last = b === batches.length - 1;
    const over = failed * 100 > threshold * batch.length; // "above": exactly at the threshold goes on
    // a host that needs a person stops the rollout whatever the threshold says
    const stranded = results.filter((r) => r?.result === 'rollback_failed').map((r) => r!.host);
    if (stranded.length && !last && !interrupted) {
      haltReason = `batch ${b + 1}: the rollback failed on ${stranded.join(', ')}: a person is needed before going on`;
    } else if (over && !last && !interrupted) {
      haltReason = `batch ${b + 1}: ${failed} of ${batch.length} host${batch.length === 1 ? '' : 's'} failed, above max_fail_percentage ${threshold}%`;
    }
    opts.events.emit({ type: 'batch-end', batch: b + 1, failed, total: batch.length, halted: !!haltReason, maxFailPercentage: threshold });
  }
  const codes = outcomes.map((o) => EXIT_OF[o.result]);
  if (haltReason) codes.push(Exit.refused);
  if (interrupted) codes.push(Exit.interrupted);
  return { hosts: outcomes, halted: !!haltReason, ...(haltReason ? { haltReason } : {}), interrupted, exitCode: worstExit(codes) };
}

/** A runHost that throws (a bug) fails its host only, never the hosts in flight beside it. */
async function guarded(h: ResolvedHost, batch: number, runHost: (host: ResolvedHost, batch: number) => Promise<HostOutcome>, events: Events): Promise<HostOutcome> {
  const started = Date.now();
  try {
    return await runHost(h, batch);
  } catch (err) {
    const outcome: HostOutcome = { host: h.name, result: 'failed', ms: Date.now() - started, message: `internal error: ${(err as Error)?.message ?? String(err)}` };
    events.emit({ type: 'host-end', host: outcome.host, result: outcome.result, ms: outcome.ms, message: outcome.message });
    return outcome;
  }
}

/** true to go on, or why not. */
async function pauseBetween(pause: string | undefined, b: number, opts: FleetOptions, stopping: () => boolean): Promise<true | string> {
  if (!pause) return true;
  if (pause === 'confirm') {
    try {
      return (await opts.confirm(`batch ${b} done; start batch ${b + 1}?`)) ? true : `the operator declined to start batch ${b + 1}`;
    } catch (err) {
      return `pause: confirm before batch ${b + 1}: ${(err as Error).message}`;
    }
  }
  const ms = parseDuration(pause) ?? 0;
  if (ms > 0) await (opts.sleep ?? sleep)(ms, stopping);
  return true;
}

/** Sleeps `ms`, waking early once `stopping()` turns true. */
async function sleep(ms: number, stopping: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (!stopping() && Date.now() < until) await new Promise((r) => setTimeout(r, Math.min(200, until - Date.now())));
}
