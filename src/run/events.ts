// What a run reports, as typed events. Output (listr2, plain lines, JSON lines,
// the report file) only ever subscribes to these.
import type { HostFacts } from '../nginx/facts.js';
export type StepResult = 'changed' | 'ok' | 'skipped' | 'failed' | 'planned';
export type HostResult = 'ok' | 'changed' | 'failed' | 'rolled_back' | 'unreachable' | 'refused' | 'skipped' | 'rollback_failed' | 'planned';

export type RunEvent =
  | {
      type: 'run-start';
      name: string;
      dryRun: boolean;
      hosts: string[];
      batches: string[][];
      binarySha256?: string;
      /** the strategy in force: hosts in flight per batch, the failure threshold */
      concurrency?: number;
      maxFailPercentage?: number;
      limit?: string;
    }
  | { type: 'batch-start'; batch: number; hosts: string[] }
  /** a batch that was never started: none of its hosts was contacted */
  | { type: 'batch-skipped'; batch: number; hosts: string[]; reason: string }
  | { type: 'host-start'; host: string; batch: number; steps: string[] }
  /** `when` is 'before' (the default) or 'after' the steps (a final read, when the runner does one) */
  | { type: 'host-facts'; host: string; facts: HostFacts; connectMs: number; factsMs: number; when?: 'before' | 'after' }
  | { type: 'step-start'; host: string; step: number; label: string }
  | { type: 'action'; host: string; step: number; description: string; changes: boolean; withheld: boolean }
  | { type: 'warning'; host: string; step: number; message: string }
  /** nginx paths the playbook left to the host, as read from it: "pid_file /run/nginx.pid (pid directive in /etc/nginx/nginx.conf:4)" */
  | { type: 'layout'; host: string; lines: string[] }
  | { type: 'step-end'; host: string; step: number; label: string; result: StepResult; ms: number; message?: string }
  /** in a plan, once the host's steps went through: what a rollback would do, per phase, in the executor's words */
  | { type: 'rollback-plan'; host: string; paths: { phase: string; actions: string[] }[] }
  | { type: 'rollback-start'; host: string; phase: string; reason: string }
  | { type: 'rollback-end'; host: string; ok: boolean; ms: number; message: string }
  | { type: 'host-end'; host: string; result: HostResult; ms: number; message?: string }
  | { type: 'batch-end'; batch: number; failed: number; total: number; halted: boolean; maxFailPercentage?: number }
  /** one row per selected host, in batch order, skipped ones included */
  | { type: 'recap'; hosts: RecapEntry[] }
  | { type: 'run-end'; exitCode: number; ms: number; summary: Record<HostResult, number>; halted?: boolean; haltReason?: string };

// Why: the recap is both printed and sent as an event, so --json consumers get
// every host's final result (skipped ones included) without replaying the stream.
export interface RecapEntry {
  host: string;
  batch: number;
  result: HostResult;
  ms: number;
  message?: string;
}

// Why: reporters subscribe here; none of them may break a run in flight.
export type Listener = (e: RunEvent) => void;

export class Events {
  private listeners: Listener[] = [];
  on(l: Listener): void {
    this.listeners.push(l);
  }
  /** A listener that throws is reported once and dropped: output must never stop an upgrade half-way. */
  emit(e: RunEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        this.listeners = this.listeners.filter((x) => x !== l);
        process.stderr.write(`hotswap: internal error in a reporter, which is now off: ${(err as Error)?.message ?? String(err)}\n`);
      }
    }
  }
}
