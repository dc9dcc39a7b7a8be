// The plan as data, built from the same events an apply emits, then rendered
// as text (a terminal), JSON (one document) or Markdown (a change ticket).
import type { RunEvent, HostResult } from '../run/events.js';
import { oneLine } from './terminal-text.js';

interface PlannedStep {
  label: string;
  actions: { description: string; changes: boolean; withheld: boolean }[];
}

export interface PlannedHost {
  host: string;
  batch: number;
  result?: HostResult;
  message?: string;
  master?: { pid: number; argv0?: string; runningSha256?: string; workers: number };
  binary?: { path: string; sha256?: string };
  warnings: string[];
  /** nginx paths read from the host, with where each came from (a playbook naming only the binary) */
  paths?: string[];
  steps: PlannedStep[];
  /** what apply does if a step fails, per phase reached, in the executor's own words (the rollback-plan event) */
  rollback: { phase: string; actions: string[] }[];
}

export interface PlanDocument {
  name: string;
  offline: boolean;
  newBuildSha256?: string;
  batches: string[][];
  hosts: PlannedHost[];
}

export class PlanBuilder {
  readonly doc: PlanDocument = { name: '', offline: false, batches: [], hosts: [] };
  private byName = new Map<string, PlannedHost>();

  on(e: RunEvent): void {
    const h = 'host' in e ? this.byName.get(e.host) : undefined;
    switch (e.type) {
      case 'run-start':
        Object.assign(this.doc, { name: e.name, batches: e.batches, newBuildSha256: e.binarySha256 });
        break;
      case 'host-start': {
        const host: PlannedHost = { host: e.host, batch: e.batch, warnings: [], steps: e.steps.map((label) => ({ label, actions: [] })), rollback: [] };
        this.byName.set(e.host, host);
        this.doc.hosts.push(host);
        break;
      }
      case 'host-facts': {
        const f = e.facts;
        if (!h) break;
        if (f.master) h.master = { pid: f.master.pid, argv0: f.master.execPath ?? f.master.argv0, runningSha256: f.master.exeSha256, workers: f.master.workers.length };
        h.binary = { path: f.binary.path, sha256: f.binary.sha256 };
        break;
      }
      case 'action':
        h?.steps[e.step]?.actions.push({ description: e.description, changes: e.changes, withheld: e.withheld });
        break;
      case 'warning':
        h?.warnings.push(e.message);
        break;
      case 'layout':
        if (h) h.paths = e.lines;
        break;
      case 'rollback-plan':
        if (h) h.rollback = e.paths;
        break;
      case 'host-end':
        if (h) Object.assign(h, { result: e.result, message: e.message });
        break;
    }
  }
}

const short = (s?: string) => (s ? `${s.slice(0, 12)}…` : '?');
const mark = (a: { changes: boolean; withheld: boolean }) => (!a.withheld ? 'checked now' : a.changes ? 'would change' : 'would wait/check');

// Every entry of `out` is one line of ours; whatever control character or line
// break one holds came from a host (a title, a message, a path) and is escaped.
const lines = (out: string[]) => out.map(oneLine).join('\n') + '\n';

export function planText(doc: PlanDocument): string {
  const out = [`plan: ${doc.name}${doc.offline ? '  (OFFLINE: from the playbook alone; no host was contacted, so no pids, builds or pre-flight checks)' : ''}`];
  out.push(`  ${doc.hosts.length} host(s) in ${doc.batches.length} batch(es): ${doc.batches.map((b, i) => `[${i + 1}] ${b.join(', ')}`).join('  ')}`);
  if (doc.newBuildSha256) out.push(`  new build sha256 ${doc.newBuildSha256}`);
  if (!doc.offline) out.push('  nothing has been changed on any host');
  for (const h of doc.hosts) {
    out.push('', `${h.host} (batch ${h.batch}): ${verdict(h)}`);
    if (h.master) out.push(`  master pid ${h.master.pid}, ${h.master.workers} workers, running sha256 ${short(h.master.runningSha256)}, execs ${h.master.argv0 ?? '?'}`);
    if (h.paths) out.push('  nginx paths read from the host:', ...h.paths.map((p) => `    ${p}`));
    for (const w of h.warnings) out.push(`  warning: ${w}`);
    if (h.result === 'ok' || h.result === 'refused' || h.result === 'unreachable') continue;
    h.steps.forEach((s, i) => {
      out.push(`  ${i + 1}. ${s.label}`);
      for (const a of s.actions) out.push(`       ${mark(a).padEnd(16)} ${a.description}`);
    });
    if (h.rollback.length) {
      out.push('  if a step fails, apply rolls back (the file first, then the processes):');
      for (const r of h.rollback) out.push(`    ${r.phase}:`, ...r.actions.map((a, i) => `      ${i + 1}. ${a}`));
    }
  }
  return lines(out);
}

function verdict(h: PlannedHost): string {
  if (h.result === 'planned') return 'would upgrade';
  if (h.result === 'ok') return `ok, nothing to do: ${h.message ?? ''}`;
  return `${h.result === 'refused' ? 'REFUSED' : h.result?.toUpperCase()}: ${h.message ?? ''}`;
}

export function planMarkdown(doc: PlanDocument): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const out = [`# Plan: ${esc(doc.name)}`, ''];
  if (doc.offline) out.push('> **Offline plan**: built from the playbook alone. No host was contacted: pids, running builds and pre-flight checks are unknown.', '');
  if (doc.newBuildSha256) out.push(`New build sha256: \`${doc.newBuildSha256}\``, '');
  out.push('| batch | host | verdict | master pid | running sha256 |', '| --- | --- | --- | --- | --- |');
  for (const h of doc.hosts) out.push(`| ${h.batch} | ${esc(h.host)} | ${esc(verdict(h))} | ${h.master?.pid ?? ''} | ${h.master?.runningSha256 ? `\`${short(h.master.runningSha256)}\`` : ''} |`);
  for (const h of doc.hosts) {
    out.push('', `## ${esc(h.host)}`, '');
    for (const w of h.warnings) out.push(`- **warning:** ${esc(w)}`);
    if (h.result === 'ok' || h.result === 'refused' || h.result === 'unreachable') {
      out.push(`${verdict(h)}`);
      continue;
    }
    out.push('| # | step | action | kind |', '| --- | --- | --- | --- |');
    h.steps.forEach((s, i) => s.actions.forEach((a, j) => out.push(`| ${j === 0 ? i + 1 : ''} | ${j === 0 ? esc(s.label) : ''} | ${esc(a.description)} | ${mark(a)} |`)));
    if (h.rollback.length) {
      out.push('', '**Rollback path** if a step fails:', '');
      for (const r of h.rollback) out.push(`- ${esc(r.phase)}:`, ...r.actions.map((a, i) => `  ${i + 1}. ${esc(a)}`));
    }
  }
  return lines(out);
}
