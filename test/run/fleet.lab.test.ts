// The rollout on a lab fleet: six real nginx hosts behind the test sshd, driven
// through the compiled CLI. What the strategy did is read off the hosts (/proc,
// their files) and off the --json events, in the order they were written.
import { expect } from 'chai';
import { createServer, type Server, type Socket } from 'node:net';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CANONICAL_STEPS, type LabFleet, type PlaybookOptions } from '../../lab/fleet.js';
import { runCli, type CliResult } from '../cli/run-cli.js';
import { hostState, labFleet } from './lab-helpers.js';

// the health check of every host wants its own `health_text`: one host can be made to fail
const STEPS = CANONICAL_STEPS.replace('contains: ok', 'contains: "{{ health_text }}"');
const failing = (...names: string[]): PlaybookOptions => ({
  steps: STEPS,
  vars: { health_text: 'ok' },
  hostVars: Object.fromEntries(names.map((n) => [n, { health_text: 'never in the body' }])),
});

type Event = { ts: string; type: string; host?: string; batch?: number; result?: string; [k: string]: unknown };

/** Every stdout line is a JSON event: nothing else may be printed there with --json. */
function eventsOf(r: CliResult): Event[] {
  const lines = r.stdout.split('\n').filter(Boolean);
  expect(r.stdout.endsWith('\n'), 'stdout ends with a newline').to.equal(true);
  return lines.map((l) => {
    try {
      return JSON.parse(l) as Event;
    } catch {
      throw new Error(`not a JSON line on stdout: ${l}`);
    }
  });
}

const resultsOf = (events: Event[]) => Object.fromEntries(events.filter((e) => e.type === 'host-end').map((e) => [e.host, e.result]));

/** The most hosts between their host-start and host-end at once, from the order of the events. */
function maxInFlight(events: Event[]): number {
  let now = 0;
  let max = 0;
  for (const e of events) {
    if (e.type === 'host-start') max = Math.max(max, ++now);
    if (e.type === 'host-end') now--;
  }
  return max;
}

/** Nothing of an upgrade happened on the host: same master, old build in the file and in memory, no backup, no temp file. */
function expectUntouched(fleet: LabFleet, i: number, before: ReturnType<typeof hostState>) {
  const h = fleet.hosts[i];
  const now = hostState(h);
  expect(now.pid, h.name).to.equal(before.pid);
  expect(now.exeSha, h.name).to.equal(fleet.builds.old.sha256);
  expect(now.fileSha, h.name).to.equal(fleet.builds.old.sha256);
  expect(now.backups, h.name).to.deep.equal([]);
  expect(now.oldbin, h.name).to.equal(false);
  expect(readdirSync(join(h.binaryPath, '..')).filter((f) => f.includes('hotswap')), h.name).to.deep.equal([]);
}

function expectUpgraded(fleet: LabFleet, i: number, before: ReturnType<typeof hostState>) {
  const h = fleet.hosts[i];
  const now = hostState(h);
  expect(now.exeSha, h.name).to.equal(fleet.builds.new.sha256);
  expect(now.fileSha, h.name).to.equal(fleet.builds.new.sha256);
  expect(now.pid, h.name).not.to.equal(before.pid);
  expect(now.backups, h.name).to.have.length(1);
  expect(now.oldbin, h.name).to.equal(false);
  expect(now.workers, h.name).to.equal(2);
}

function expectRolledBack(fleet: LabFleet, i: number, before: ReturnType<typeof hostState>) {
  const h = fleet.hosts[i];
  const now = hostState(h);
  expect(now.pid, h.name).to.equal(before.pid);
  expect(now.exeSha, h.name).to.equal(fleet.builds.old.sha256);
  expect(now.fileSha, h.name).to.equal(fleet.builds.old.sha256);
  expect(now.oldbin, h.name).to.equal(false);
  expect(now.workers, h.name).to.equal(2);
}

describe('fleet rollout on a lab fleet of 6 nginx hosts over SSH', function () {
  this.timeout(120_000);
  let fleet: LabFleet | undefined;
  let server: Server | undefined;
  const held: Socket[] = [];
  afterEach(async () => {
    held.splice(0).forEach((s) => s.destroy());
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
    await fleet?.stop();
    fleet = undefined;
  });

  it('threshold 0: a failing host in batch 2 halts the rollout before batch 3 (exit 4); batch 3 is untouched', async () => {
    fleet = await labFleet(6);
    const before = fleet.hosts.map(hostState);
    const file = await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'), { ...failing('lab-3'), extra: 'strategy: { serial: [1, 2, 3], max_fail_percentage: 0 }' });
    const report = join(fleet.dir, 'report.json');
    const r = await runCli(['apply', file, '--yes', '--json', '--report', report]);
    expect(r.code, r.stderr).to.equal(4);

    expectUpgraded(fleet, 0, before[0]);
    expectUpgraded(fleet, 1, before[1]);
    expectRolledBack(fleet, 2, before[2]);
    for (const i of [3, 4, 5]) expectUntouched(fleet, i, before[i]);

    const events = eventsOf(r);
    expect(resultsOf(events)).to.deep.equal({ 'lab-1': 'changed', 'lab-2': 'changed', 'lab-3': 'rolled_back' });
    expect(events.filter((e) => e.host && ['lab-4', 'lab-5', 'lab-6'].includes(e.host))).to.deep.equal([]);
    expect(events.filter((e) => e.type === 'batch-start').map((e) => e.batch)).to.deep.equal([1, 2]);
    expect(events.find((e) => e.type === 'batch-end' && e.batch === 2)).to.include({ failed: 1, total: 2, halted: true, maxFailPercentage: 0 });
    expect(events.find((e) => e.type === 'batch-skipped')).to.deep.include({ batch: 3, hosts: ['lab-4', 'lab-5', 'lab-6'], reason: 'the rollout was halted' });
    expect(events.at(-1)).to.include({ type: 'run-end', exitCode: 4, halted: true });

    // the recap goes to stderr with --json, and says how far it got
    expect(r.stderr).to.match(/^lab-3 +ok=0 changed=0 failed=0 rolled_back=1 unreachable=0 skipped=0 +\S+ +rolled_back: verify.*never in the body/m);
    expect(r.stderr).to.match(/^lab-4 +ok=0 changed=0 failed=0 rolled_back=0 unreachable=0 skipped=1 +0ms +skipped: not started: the rollout was halted$/m);
    expect(r.stderr).to.match(/^total +ok=0 changed=2 failed=0 rolled_back=1 unreachable=0 skipped=3 /m);
    expect(r.stderr).to.match(/^halted: batch 2: 1 of 2 hosts failed, above max_fail_percentage 0%; the later batches were not started/m);

    // the report: every host, the facts it started from, each step and the rollback
    const doc = JSON.parse(readFileSync(report, 'utf8'));
    expect(doc).to.include({ exitCode: 4, halted: true, dryRun: false });
    expect(doc.strategy).to.deep.equal({ serial: [1, 2, 3], concurrency: 20, max_fail_percentage: 0 });
    expect(doc.binaries[0].sha256).to.equal(fleet.builds.new.sha256);
    expect(doc.hosts.map((h: { host: string; batch: number; result: string }) => [h.host, h.batch, h.result])).to.deep.equal([
      ['lab-1', 1, 'changed'],
      ['lab-2', 2, 'changed'],
      ['lab-3', 2, 'rolled_back'],
      ['lab-4', 3, 'skipped'],
      ['lab-5', 3, 'skipped'],
      ['lab-6', 3, 'skipped'],
    ]);
    const lab3 = doc.hosts[2];
    expect(lab3.facts.before.master.pid).to.equal(before[2].pid);
    expect(lab3.facts.before.master.exeSha256).to.equal(fleet.builds.old.sha256);
    expect(lab3.steps.map((s: { result: string }) => s.result)).to.deep.equal(['changed', 'changed', 'changed', 'changed', 'changed', 'changed', 'failed', 'skipped', 'skipped']);
    for (const s of lab3.steps.slice(0, 7)) {
      expect(s.ms).to.be.a('number');
      expect(s.started).to.be.a('string');
      expect(s.actions.length, s.label).to.be.greaterThan(0);
    }
    expect(lab3.steps[6].message).to.match(/never in the body/);
    expect(lab3.rollback).to.deep.include({ phase: 'winch', ok: true });
    expect(lab3.rollback.message).to.match(/HUP -> \d+/);
    expect(doc.hosts[3]).to.deep.include({ result: 'skipped', message: 'not started: the rollout was halted', steps: [] });
    expect(doc.hosts[3].facts).to.deep.equal({});
  });

  it('threshold 50: the same failure goes on and upgrades batch 3 (exit 1)', async () => {
    fleet = await labFleet(6);
    const before = fleet.hosts.map(hostState);
    const file = await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'), { ...failing('lab-3'), extra: 'strategy: { serial: [1, 2, 3], max_fail_percentage: 50 }' });
    const r = await runCli(['apply', file, '--yes']);
    expect(r.code, r.stderr).to.equal(1);
    for (const i of [0, 1, 3, 4, 5]) expectUpgraded(fleet, i, before[i]);
    expectRolledBack(fleet, 2, before[2]);
    expect(r.stdout).to.match(/^total +ok=0 changed=5 failed=0 rolled_back=1 unreachable=0 skipped=0 /m);
    expect(r.stdout).not.to.match(/halted/);
    expect(r.stderr).to.match(/batch 2: 1 of 2 failed \(max_fail_percentage 50%\)\n/);
  });

  it('bounds the hosts in flight by --concurrency, and runs that many at once', async () => {
    fleet = await labFleet(6);
    const file = await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'), { extra: 'strategy: { concurrency: 6 }' });
    const r = await runCli(['apply', file, '--yes', '--json', '--concurrency', '2']);
    expect(r.code, r.stderr).to.equal(0);
    const events = eventsOf(r);
    expect(events[0]).to.include({ type: 'run-start', concurrency: 2 });
    expect(maxInFlight(events)).to.equal(2);
    expect(Object.values(resultsOf(events))).to.deep.equal(Array(6).fill('changed'));
    for (const h of fleet.hosts) expect(hostState(h).exeSha).to.equal(fleet.builds.new.sha256);
  });

  it('fans out: with strategy.concurrency 6, all six hosts are in flight at once', async () => {
    fleet = await labFleet(6);
    const file = await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'), { extra: 'strategy: { concurrency: 6 }' });
    const r = await runCli(['apply', file, '--yes', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    expect(maxInFlight(eventsOf(r))).to.equal(6);
  });

  it('reports unreachable hosts (exit 3) and never lets one hold up the others of its batch', async () => {
    fleet = await labFleet(6);
    const before = fleet.hosts.map(hostState);
    // lab-2: a port that accepts and then says nothing, held until the others are done; lab-5: a closed port
    server = createServer((s) => void held.push(s.on('error', () => undefined)));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const silent = (server.address() as { port: number }).port;
    const file = await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'), { sshPorts: { 'lab-2': silent, 'lab-5': 1 }, connectTimeout: '90s' });
    const others = new Set(['lab-1', 'lab-3', 'lab-4', 'lab-5', 'lab-6']);
    let out = '';
    const r = await runCli(['apply', file, '--yes', '--json'], {
      onStdout: (chunk) => {
        out += chunk;
        const ended = out.split('\n').slice(0, -1).map((l) => JSON.parse(l) as Event).filter((e) => e.type === 'host-end').map((e) => e.host);
        if ([...others].every((h) => ended.includes(h))) held.splice(0).forEach((s) => s.destroy());
      },
    });
    expect(r.code, r.stderr).to.equal(3);
    const events = eventsOf(r);
    const ends = events.filter((e) => e.type === 'host-end');
    expect(ends.at(-1)).to.include({ host: 'lab-2', result: 'unreachable' });
    expect(resultsOf(events)).to.deep.equal({ 'lab-1': 'changed', 'lab-2': 'unreachable', 'lab-3': 'changed', 'lab-4': 'changed', 'lab-5': 'unreachable', 'lab-6': 'changed' });
    expect(ends.find((e) => e.host === 'lab-5')!.message).to.match(/127\.0\.0\.1:1\b/);
    for (const i of [0, 2, 3, 5]) expectUpgraded(fleet, i, before[i]);
    for (const i of [1, 4]) expectUntouched(fleet, i, before[i]);
    expect(r.stderr).to.match(/^lab-2 +ok=0 changed=0 failed=0 rolled_back=0 unreachable=1 skipped=0 +\S+ +unreachable: lab-2 \(127\.0\.0\.1:\d+\): /m);
    expect(r.stderr).to.match(/^total +ok=0 changed=4 failed=0 rolled_back=0 unreachable=2 skipped=0 /m);
  });

  it('an idempotent rerun touches nothing: every master keeps its pid, exit 0', async () => {
    fleet = await labFleet(6);
    const file = await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'), { extra: 'strategy: { serial: 2, concurrency: 3 }' });
    const first = await runCli(['apply', file, '--yes']);
    expect(first.code, first.stderr).to.equal(0);
    const upgraded = fleet.hosts.map(hostState);
    const r = await runCli(['apply', file, '--yes', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    expect(fleet.hosts.map(hostState)).to.deep.equal(upgraded);
    const events = eventsOf(r);
    expect(Object.values(resultsOf(events))).to.deep.equal(Array(6).fill('ok'));
    expect(events.filter((e) => e.type === 'step-start' || (e.type === 'action' && e.changes))).to.deep.equal([]);
    expect(r.stderr).to.match(/^total +ok=6 changed=0 failed=0 rolled_back=0 unreachable=0 skipped=0 /m);
  });

  it('--limit with an inventory group, a glob and !name upgrades only the hosts it selects', async () => {
    fleet = await labFleet(6);
    const before = fleet.hosts.map(hostState);
    writeFileSync(join(fleet.dir, 'hosts.ini'), '[canary]\nlab-1\n\n[rest]\nlab-[2:6]\n');
    const file = await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'), { extra: 'inventory: ./hosts.ini' });
    const r = await runCli(['apply', file, '--yes', '--json', '--limit', 'canary,~lab-[45],!lab-5']);
    expect(r.code, r.stderr).to.equal(0);
    expect(eventsOf(r)[0]).to.deep.include({ type: 'run-start', hosts: ['lab-1', 'lab-4'], limit: 'canary,~lab-[45],!lab-5' });
    expectUpgraded(fleet, 0, before[0]);
    expectUpgraded(fleet, 3, before[3]);
    for (const i of [1, 2, 4, 5]) expectUntouched(fleet, i, before[i]);
    expect(r.stderr).to.match(/^total +ok=0 changed=2 /m);
    expect(r.stderr).not.to.match(/lab-[2356] +ok=/);
  });
});

describe('apply --dry-run --json on the lab', function () {
  this.timeout(120_000);
  let fleet: LabFleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });

  it('streams the dry run as JSON lines only, every change withheld, and changes nothing', async () => {
    fleet = await labFleet(2);
    const before = fleet.hosts.map(hostState);
    const r = await runCli(['apply', await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml')), '--dry-run', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const events = eventsOf(r);
    expect(events[0]).to.include({ type: 'run-start', dryRun: true });
    expect(resultsOf(events)).to.deep.equal({ 'lab-1': 'planned', 'lab-2': 'planned' });
    const changes = events.filter((e) => e.type === 'action' && e.changes);
    expect(changes.length).to.be.greaterThan(0);
    expect(changes.every((e) => e.withheld === true)).to.equal(true);
    for (const [i, h] of fleet.hosts.entries()) expect(hostState(h)).to.deep.equal(before[i]);
  });
});

describe('--report on the lab: no secret in the record or the output', function () {
  this.timeout(120_000);
  let fleet: LabFleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });

  it('writes facts, steps and the rollback, and never the key, a passphrase or a password', async () => {
    fleet = await labFleet(2);
    const secret = 'S3cret-passphrase-7f1e2d';
    const file = await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'), { ...failing('lab-2'), extra: 'strategy: { max_fail_percentage: 100 }' });
    const report = join(fleet.dir, 'report.json');
    const env = { HOTSWAP_SSH_PASSPHRASE: secret, SSH_PASSPHRASE: secret, SUDO_PASSWORD: secret, ANSIBLE_BECOME_PASS: secret };
    const r = await runCli(['apply', file, '--yes', '--json', '--report', report], { env });
    expect(r.code, r.stderr).to.equal(1);
    const text = readFileSync(report, 'utf8');
    const doc = JSON.parse(text);
    expect(doc.hosts.map((h: { result: string }) => h.result)).to.deep.equal(['changed', 'rolled_back']);
    expect(doc.hosts[1].rollback.ok).to.equal(true);

    const key = readFileSync(fleet.sshd.identityFile, 'utf8');
    const keyLines = key.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'));
    expect(keyLines.length).to.be.greaterThan(0);
    for (const [where, out] of [['report', text], ['stdout', r.stdout], ['stderr', r.stderr]]) {
      expect(out, where).not.to.include(secret);
      for (const l of keyLines) expect(out.includes(l), `${where} holds a line of the private key`).to.equal(false);
      expect(out, where).not.to.match(/PRIVATE KEY/);
    }
  });
});
