// What plan and apply share: load, select hosts, hash the builds, show what is
// about to happen, run the fleet with the right reporters, print the recap.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { loadPlaybook } from '../playbook/load.js';
import type { LoadedPlaybook, ResolvedHost } from '../playbook/resolved.js';
import { makeBatches } from '../plan/batches.js';
import { selectHosts } from '../inventory/pattern.js';
import { Events, type RunEvent } from '../run/events.js';
import { runFleet } from '../run/fleet.js';
import { runHost } from '../run/host.js';
import { connector } from '../run/connect.js';
import { localBinary, type LocalBinary } from '../run/local-binary.js';
import type { RunContext } from '../run/host-run.js';
import { recapLines } from '../report/recap.js';
import { plainLine } from '../report/plain.js';
import { jsonLine } from '../report/json-lines.js';
import { RunRecord } from '../report/record.js';
import { CliError, Exit, type ExitCode } from './exit.js';
import { confirmer } from './confirm.js';
import type { CommandArgs } from './main.js';

export interface RunOptions {
  dryRun: boolean;
  /** extra listener, e.g. the plan's printer */
  listen?: (e: RunEvent) => void;
  /** no progress lines (the plan prints its own document) */
  quiet?: boolean;
}

export function selectedHosts(loaded: LoadedPlaybook, limit: string | undefined): ResolvedHost[] {
  if (!limit) return loaded.hosts;
  const { hosts, unmatched } = selectHosts(limit, { hosts: loaded.hosts.map((h) => h.name), groups: loaded.groups });
  if (unmatched.length) process.stderr.write(`hotswap: warning: --limit: nothing matches ${unmatched.join(', ')}\n`);
  if (!hosts.length) throw new CliError(`--limit ${JSON.stringify(limit)} matches no host of the playbook`);
  const keep = new Set(hosts);
  return loaded.hosts.filter((h) => keep.has(h.name));
}

export async function hashBuilds(loaded: LoadedPlaybook, hosts: ResolvedHost[]): Promise<Map<string, LocalBinary>> {
  const builds = new Map<string, LocalBinary>();
  for (const h of hosts) {
    for (const s of h.steps) {
      const c = s['copy-binary'];
      if (c && !builds.has(c.src)) builds.set(c.src, await localBinary(loaded.dir, c.src, c.sha256));
    }
  }
  return builds;
}

function concurrencyOf(v: string | boolean | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`--concurrency takes a whole number of hosts, at least 1 (got ${JSON.stringify(v)})`);
  return n;
}

export async function runPlaybook(args: CommandArgs, opts: RunOptions): Promise<ExitCode> {
  const v = args.values;
  const concurrency = concurrencyOf(v.concurrency);
  const loaded = loadPlaybook(args.playbook);
  const hosts = selectedHosts(loaded, v.limit as string | undefined);
  const binaries = await hashBuilds(loaded, hosts);
  const batches = makeBatches(hosts, loaded.playbook.strategy?.serial);
  const confirm = confirmer(!!v.yes);
  const json = !!v.json;

  if (!opts.dryRun) {
    const summary = [
      `${loaded.playbook.name}: ${hosts.length} host${hosts.length === 1 ? '' : 's'} in ${batches.length} batch${batches.length === 1 ? '' : 'es'}:`,
      ...batches.map((b, i) => `  batch ${i + 1}: ${b.map((h) => h.name).join(', ')}`),
      ...[...binaries.values()].map((b) => `  new build: ${b.path} sha256 ${b.sha256}`),
    ];
    process.stderr.write(summary.join('\n') + '\n');
    if (!(await confirm('Upgrade these hosts?'))) {
      process.stderr.write('hotswap: nothing was changed\n');
      return Exit.usage;
    }
  }

  const events = new Events();
  const record = new RunRecord();
  events.on((e) => record.on(e));
  if (opts.listen) events.on(opts.listen);
  if (json) events.on((e) => process.stdout.write(jsonLine(e) + '\n'));
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
  const onSignal = (sig: string) => {
    if (stopping) {
      process.stderr.write(`hotswap: ${sig} again: still bringing the hosts in flight to a serving state; please wait\n`);
      return;
    }
    stopping = true;
    process.stderr.write(`hotswap: ${sig}: no new host will be started; hosts in flight finish their step or roll back\n`);
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);

  const started = Date.now();
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const ctx: RunContext = { dryRun: opts.dryRun, events, runId, stamp: utcStamp(new Date()), binaries };
  events.emit({ type: 'run-start', name: loaded.playbook.name, dryRun: opts.dryRun, hosts: hosts.map((h) => h.name), batches: batches.map((b) => b.map((h) => h.name)), binarySha256: [...binaries.values()][0]?.sha256 });
  const connect = connector(loaded.playbook);
  try {
    const outcome = await runFleet(loaded.playbook, hosts, { events, concurrency, confirm, stopping: () => stopping }, (host, batch) => runHost(host, { playbook: loaded.playbook, ctx, connect, batch }));
    const summary = Object.fromEntries(['ok', 'changed', 'failed', 'rolled_back', 'unreachable', 'refused', 'skipped', 'rollback_failed', 'planned'].map((r) => [r, outcome.hosts.filter((h) => h.result === r).length])) as never;
    events.emit({ type: 'run-end', exitCode: outcome.exitCode, ms: Date.now() - started, summary });
    await listr?.close();
    if (!opts.quiet) {
      const out = json ? process.stderr : process.stdout;
      out.write(`\n${recapLines(outcome.hosts, Date.now() - started).join('\n')}\n`);
      if (outcome.halted) out.write(`halted: a batch failed above max_fail_percentage (${loaded.playbook.strategy?.max_fail_percentage ?? 0}%); later batches were not touched\n`);
    }
    if (v.report) writeFileSync(String(v.report), JSON.stringify(record, null, 2) + '\n');
    return outcome.exitCode;
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

function utcStamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}


