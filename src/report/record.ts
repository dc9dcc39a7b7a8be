// The run's full record (--report FILE): per host its facts, every step with
// result, timing and actions, and the rollback. Built from events only, plus
// the run's settings the CLI hands over (never the ssh settings). Facts hold no
// secrets: they are read from the nginx processes and files, never from keys,
// environments or passwords.
import type { RunEvent, HostResult } from '../run/events.js';
import type { HostFacts } from '../nginx/facts.js';

interface ActionRecord {
  description: string;
  changes: boolean;
  withheld: boolean;
}

interface StepRecord {
  label: string;
  result?: string;
  started?: string;
  ms?: number;
  message?: string;
  actions: ActionRecord[];
}

interface HostRecord {
  host: string;
  batch: number;
  result?: HostResult;
  message?: string;
  started?: string;
  finished?: string;
  ms?: number;
  connectMs?: number;
  factsMs?: number;
  facts: { before?: HostFacts; after?: HostFacts };
  steps: StepRecord[];
  /** actions outside any step (pre-flight checks) */
  actions: ActionRecord[];
  rollback?: { phase: string; reason: string; started: string; ok?: boolean; ms?: number; message?: string; actions: ActionRecord[] };
}

// Why: what the CLI knows about the run that no event carries.
export interface RunSettings {
  playbook: string;
  limit?: string;
  strategy: { serial?: unknown; concurrency: number; max_fail_percentage: number; pause?: string };
  /** the new build(s): the control machine's file and its sha256 */
  binaries: { src: string; path: string; sha256: string }[];
}

// Why: --report must say exactly what happened, host by host, after the terminal is gone.
export class RunRecord {
  readonly started = new Date().toISOString();
  name = '';
  dryRun = false;
  settings?: RunSettings;
  hosts = new Map<string, HostRecord>();
  batches: string[][] = [];
  exitCode?: number;
  ms?: number;
  halted?: boolean;
  haltReason?: string;
  summary?: Record<string, number>;
  private finished?: string;

  private host(name: string, batch = 0): HostRecord {
    let h = this.hosts.get(name);
    if (!h) this.hosts.set(name, (h = { host: name, batch, facts: {}, steps: [], actions: [] }));
    return h;
  }

  on(e: RunEvent): void {
    const now = new Date().toISOString();
    switch (e.type) {
      case 'run-start':
        Object.assign(this, { name: e.name, dryRun: e.dryRun, batches: e.batches });
        // every selected host has a place from the start, in batch order
        e.batches.forEach((b, i) => b.forEach((name) => this.host(name, i + 1)));
        break;
      case 'host-start': {
        const h = this.host(e.host, e.batch);
        Object.assign(h, { batch: e.batch, started: now, steps: e.steps.map((label) => ({ label, actions: [] })) });
        break;
      }
      case 'host-facts': {
        const h = this.host(e.host);
        if (e.when === 'after') h.facts.after = e.facts;
        else Object.assign(h, { facts: { ...h.facts, before: e.facts }, connectMs: e.connectMs, factsMs: e.factsMs });
        break;
      }
      case 'step-start': {
        const s = this.host(e.host).steps[e.step];
        if (s) s.started = now;
        break;
      }
      case 'action': {
        const h = this.host(e.host);
        const a = { description: e.description, changes: e.changes, withheld: e.withheld };
        if (h.rollback && h.rollback.ok === undefined) h.rollback.actions.push(a);
        else (h.steps[e.step]?.actions ?? h.actions).push(a);
        break;
      }
      case 'step-end': {
        const h = this.host(e.host);
        h.steps[e.step] ??= { label: e.label, actions: [] };
        Object.assign(h.steps[e.step], { result: e.result, ms: e.ms, ...(e.message ? { message: e.message } : {}) });
        break;
      }
      case 'rollback-start':
        this.host(e.host).rollback = { phase: e.phase, reason: e.reason, started: now, actions: [] };
        break;
      case 'rollback-end': {
        const h = this.host(e.host);
        h.rollback ??= { phase: '?', reason: '?', started: now, actions: [] };
        Object.assign(h.rollback, { ok: e.ok, ms: e.ms, message: e.message });
        break;
      }
      case 'host-end':
        Object.assign(this.host(e.host), { result: e.result, ms: e.ms, finished: now, ...(e.message ? { message: e.message } : {}) });
        break;
      case 'batch-skipped':
        for (const name of e.hosts) Object.assign(this.host(name, e.batch), { result: 'skipped', ms: 0, message: `not started: ${e.reason}` });
        break;
      case 'recap':
        // the final word on every host (a host cut off by an interrupt has no host-end)
        for (const r of e.hosts) {
          const h = this.host(r.host, r.batch);
          if (!h.result) Object.assign(h, { result: r.result, ms: r.ms, ...(r.message ? { message: r.message } : {}) });
        }
        break;
      case 'run-end':
        Object.assign(this, { exitCode: e.exitCode, ms: e.ms, summary: e.summary, halted: !!e.halted, finished: now, ...(e.haltReason ? { haltReason: e.haltReason } : {}) });
        break;
    }
  }

  toJSON() {
    return {
      name: this.name,
      dryRun: this.dryRun,
      ...(this.settings ?? {}),
      started: this.started,
      finished: this.finished ?? null,
      ms: this.ms ?? null,
      exitCode: this.exitCode ?? null,
      halted: this.halted ?? false,
      ...(this.haltReason ? { haltReason: this.haltReason } : {}),
      summary: this.summary ?? null,
      batches: this.batches,
      hosts: [...this.hosts.values()],
    };
  }
}
