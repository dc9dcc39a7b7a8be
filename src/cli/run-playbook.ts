// What plan and apply share: load, select hosts, hash the builds, show what is
// about to happen, run the fleet with the right reporters, print the recap.
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadPlaybook } from '../playbook/load.js';
import { makeBatches } from '../plan/batches.js';
import { Events, type HostResult, type RunEvent } from '../run/events.js';
import { DEFAULT_CONCURRENCY, runFleet } from '../run/fleet.js';
import { runHost } from '../run/host.js';
import { connector } from '../run/connect.js';
import type { RunContext } from '../run/host-run.js';
import { recapLines } from '../report/recap.js';
import { plainLine } from '../report/plain.js';
import { jsonLine } from '../report/json-lines.js';
import { oneLine } from '../report/terminal-text.js';
import { RunRecord, type RunSettings } from '../report/record.js';
import { Declined, UsageError, type ExitCode } from '../errors.js';
import { confirmer } from './confirm.js';
import { clip } from './args-problem.js';
import { hashBuilds, selectedHosts } from './select.js';
import type { CommandArgs } from './command-args.js';

// Why: plan and apply differ only in these.
export interface RunOptions {
  dryRun: boolean;
  /** extra listener, e.g. the plan's printer */
  listen?: (e: RunEvent) => void;
  /** no progress lines (the plan prints its own document) */
  quiet?: boolean;
}

function concurrencyOf(v: string | boolean | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--concurrency takes a whole number of hosts, at least 1 (got ${JSON.stringify(clip(String(v)))})`);
  return n;
}

// Why: the one path from a playbook to a finished run, for plan and apply alike.
export async function runPlaybook(args: CommandArgs, opts: RunOptions): Promise<ExitCode> {
  const v = args.values;
  const concurrency = concurrencyOf(v.concurrency);
  const limit = v.limit as string | undefined;
  const report = v.report === undefined ? undefined : resolve(String(v.report));
  const loaded = loadPlaybook(args.playbook);
  const hosts = selectedHosts(loaded, limit);
  const binaries = await hashBuilds(loaded, hosts);
  const strategy = loaded.playbook.strategy ?? {};
  const batches = makeBatches(hosts, strategy.serial);
  const confirm = confirmer(!!v.yes);
  const json = !!v.json;
  const settings: RunSettings = {
    playbook: resolve(args.playbook),
    ...(limit !== undefined ? { limit } : {}),
    strategy: { serial: strategy.serial ?? null, concurrency: concurrency ?? strategy.concurrency ?? DEFAULT_CONCURRENCY, max_fail_percentage: strategy.max_fail_percentage ?? 0, ...(strategy.pause ? { pause: strategy.pause } : {}) },
    binaries: [...binaries.entries()].map(([src, b]) => ({ src, path: b.path, sha256: b.sha256 })),
  };
  const record = new RunRecord();
  record.settings = settings;
  // a report that cannot be written is found out before any host is contacted
  if (report) writeReport(report, record, true);

  if (!opts.dryRun) {
    const st = settings.strategy;
    const summary = [
      `${loaded.playbook.name}: ${hosts.length} host${hosts.length === 1 ? '' : 's'} in ${batches.length} batch${batches.length === 1 ? '' : 'es'}:`,
      ...batches.map((b, i) => `  batch ${i + 1}: ${b.map((h) => h.name).join(', ')}`),
      `  up to ${st.concurrency} host${st.concurrency === 1 ? '' : 's'} at once; halt when more than ${st.max_fail_percentage}% of a batch fails${st.pause ? `; between batches: ${st.pause === 'confirm' ? 'ask' : `pause ${st.pause}`}` : ''}`,
      ...[...binaries.values()].map((b) => `  new build: ${b.path} sha256 ${b.sha256}`),
    ];
    process.stderr.write(summary.map(oneLine).join('\n') + '\n');
    if (!(await confirm('Upgrade these hosts?'))) throw new Declined('the operator answered no: no host was contacted, nothing was changed');
  }

  const events = new Events();
  events.on((e) => record.on(e));
  if (opts.listen) events.on(opts.listen);
  if (json) {
    // a reader that goes away (`| head`) must not kill a run half-way through a host
    let open = true;
    process.stdout.on('error', () => (open = false));
    events.on((e) => {
      if (open) process.stdout.write(jsonLine(e) + '\n');
    });
  }
  const useListr = !opts.quiet && process.stderr.isTTY && !process.env.CI;
  let listr: { on(e: RunEvent): void; close(): Promise<void> } | undefined;
  if (useListr) {
    const { ListrReporter } = await import('../report/listr.js');
    listr = new ListrReporter();
    events.on((e) => listr!.on(e));
  } else if (!opts.quiet) {
    events.on((e) => {
      const line = plainLine(e);
      if (line) process.stderr.write(line + '\n');
    });
  }

  let stopping = false;
  const abort = new AbortController();
  // every host in flight listens (its wait, its upload): not a leak at 20 hosts at once
  setMaxListeners(0, abort.signal);
  const inFlight = new Set<string>();
  events.on((e) => {
    if (e.type === 'host-start') inFlight.add(e.host);
    if (e.type === 'host-end') inFlight.delete(e.host);
  });
  const onSignal = (sig: string) => {
    if (stopping) {
      process.stderr.write(`hotswap: ${sig} again: still bringing these hosts to a serving state, please wait: ${[...inFlight].join(', ') || 'none'}\n`);
      return;
    }
    stopping = true;
    abort.abort();
    process.stderr.write(`hotswap: ${sig}: no new host will be started; hosts in flight are rolled back to a serving state: ${[...inFlight].join(', ') || 'none'}\n`);
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);

  const started = Date.now();
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const ctx: RunContext = {
    dryRun: opts.dryRun,
    command: opts.dryRun ? 'plan' : 'apply',
    playbookFile: args.playbook,
    breakLock: !!v['break-lock'],
    factsAfter: !!v.report,
    stopping: () => stopping,
    abort: abort.signal,
    events,
    runId,
    stamp: utcStamp(new Date()),
    binaries,
  };
  events.emit({
    type: 'run-start',
    name: loaded.playbook.name,
    dryRun: opts.dryRun,
    hosts: hosts.map((h) => h.name),
    batches: batches.map((b) => b.map((h) => h.name)),
    binarySha256: [...binaries.values()][0]?.sha256,
    concurrency: settings.strategy.concurrency,
    maxFailPercentage: settings.strategy.max_fail_percentage,
    ...(limit !== undefined ? { limit } : {}),
  });
  const connect = connector(loaded.playbook);
  try {
    const outcome = await runFleet(loaded.playbook, hosts, { events, concurrency, confirm, stopping: () => stopping }, (host, batch) => runHost(host, { playbook: loaded.playbook, ctx, connect, batch }));
    const ms = Date.now() - started;
    events.emit({ type: 'recap', hosts: outcome.hosts.map((h) => ({ host: h.host, batch: h.batch ?? 0, result: h.result, ms: h.ms, ...(h.message ? { message: h.message } : {}) })) });
    const summary = Object.fromEntries(RESULTS.map((r) => [r, outcome.hosts.filter((h) => h.result === r).length])) as Record<HostResult, number>;
    events.emit({ type: 'run-end', exitCode: outcome.exitCode, ms, summary, halted: outcome.halted, ...(outcome.haltReason ? { haltReason: outcome.haltReason } : {}) });
    await listr?.close();
    if (!opts.quiet) {
      const out = json ? process.stderr : process.stdout;
      const lines = recapLines(outcome.hosts, ms);
      if (outcome.halted) lines.push(`halted: ${outcome.haltReason}; the later batches were not started (nothing changed on their hosts)`);
      if (outcome.interrupted) lines.push('interrupted: hosts in flight were finished or rolled back; the others were not started');
      out.write(`\n${lines.map(oneLine).join('\n')}\n`);
    }
    return outcome.exitCode;
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    if (report) writeReport(report, record, false);
  }
}

const RESULTS: HostResult[] = ['ok', 'changed', 'failed', 'rolled_back', 'unreachable', 'refused', 'skipped', 'rollback_failed', 'planned'];

/** Before the run a failure is a usage error (nothing was contacted); after it, a warning that keeps the run's exit code. */
function writeReport(file: string, record: RunRecord, before: boolean): void {
  try {
    writeFileSync(file, JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
  } catch (err) {
    const why = `--report ${file}: cannot write it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    if (before) throw new UsageError(why);
    process.stderr.write(`hotswap: warning: ${why}\n`);
  }
}

function utcStamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}


