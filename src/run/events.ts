// What a run reports, as typed events. Output (listr2, plain lines, JSON lines,
// the report file) only ever subscribes to these.
export type StepResult = 'changed' | 'ok' | 'skipped' | 'failed' | 'planned';
export type HostResult = 'ok' | 'changed' | 'failed' | 'rolled_back' | 'unreachable' | 'refused' | 'skipped' | 'rollback_failed' | 'planned';

export type RunEvent =
  | { type: 'run-start'; name: string; dryRun: boolean; hosts: string[]; batches: string[][]; binarySha256?: string }
  | { type: 'batch-start'; batch: number; hosts: string[] }
  | { type: 'host-start'; host: string; batch: number; steps: string[] }
  | { type: 'host-facts'; host: string; facts: unknown; connectMs: number; factsMs: number }
  | { type: 'step-start'; host: string; step: number; label: string }
  | { type: 'action'; host: string; step: number; description: string; changes: boolean; withheld: boolean }
  | { type: 'step-end'; host: string; step: number; label: string; result: StepResult; ms: number; message?: string }
  | { type: 'rollback-start'; host: string; phase: string; reason: string }
  | { type: 'rollback-end'; host: string; ok: boolean; ms: number; message: string }
  | { type: 'host-end'; host: string; result: HostResult; ms: number; message?: string }
  | { type: 'batch-end'; batch: number; failed: number; total: number; halted: boolean }
  | { type: 'run-end'; exitCode: number; ms: number; summary: Record<HostResult, number> };

export type Listener = (e: RunEvent) => void;

export class Events {
  private listeners: Listener[] = [];
  on(l: Listener): void {
    this.listeners.push(l);
  }
  emit(e: RunEvent): void {
    for (const l of this.listeners) l(e);
  }
}
