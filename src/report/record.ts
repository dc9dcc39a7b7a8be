// The run's full record (--report FILE): per host its facts, every step with
// result, timing and actions, and the rollback. Built from events only. Facts
// hold no secrets (no keys, passphrases or passwords ever reach them).
import type { RunEvent, HostResult } from '../run/events.js';

interface StepRecord {
  label: string;
  result?: string;
  ms?: number;
  message?: string;
  actions: { description: string; changes: boolean; withheld: boolean }[];
}

interface HostRecord {
  host: string;
  batch: number;
  result?: HostResult;
  ms?: number;
  message?: string;
  facts?: unknown;
  connectMs?: number;
  factsMs?: number;
  steps: StepRecord[];
  rollback?: { phase: string; reason: string; ok?: boolean; ms?: number; message?: string };
}

export class RunRecord {
  readonly started = new Date().toISOString();
  name = '';
  dryRun = false;
  hosts = new Map<string, HostRecord>();
  batches: string[][] = [];
  exitCode?: number;

  on(e: RunEvent): void {
    const h = 'host' in e ? this.hosts.get(e.host) : undefined;
    switch (e.type) {
      case 'run-start':
        Object.assign(this, { name: e.name, dryRun: e.dryRun, batches: e.batches });
        break;
      case 'host-start':
        this.hosts.set(e.host, { host: e.host, batch: e.batch, steps: e.steps.map((label) => ({ label, actions: [] })) });
        break;
      case 'host-facts':
        if (h) Object.assign(h, { facts: e.facts, connectMs: e.connectMs, factsMs: e.factsMs });
        break;
      case 'action':
        h?.steps[e.step]?.actions.push({ description: e.description, changes: e.changes, withheld: e.withheld });
        break;
      case 'step-end':
        if (h?.steps[e.step]) Object.assign(h.steps[e.step], { result: e.result, ms: e.ms, message: e.message });
        break;
      case 'rollback-start':
        if (h) h.rollback = { phase: e.phase, reason: e.reason };
        break;
      case 'rollback-end':
        if (h?.rollback) Object.assign(h.rollback, { ok: e.ok, ms: e.ms, message: e.message });
        break;
      case 'host-end':
        if (h) Object.assign(h, { result: e.result, ms: e.ms, message: e.message });
        else this.hosts.set(e.host, { host: e.host, batch: 0, steps: [], result: e.result, ms: e.ms, message: e.message });
        break;
      case 'run-end':
        this.exitCode = e.exitCode;
        break;
    }
  }

  toJSON() {
    return { name: this.name, dryRun: this.dryRun, started: this.started, finished: new Date().toISOString(), exitCode: this.exitCode, batches: this.batches, hosts: [...this.hosts.values()] };
  }
}
