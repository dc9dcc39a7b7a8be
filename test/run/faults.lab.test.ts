// Faults injected on a real lab host while hotswap runs: a disk with no free
// inode at restore time, a new build that hangs when started as a master, a
// new master that dies right after the old one exits, and SIGTERM during a
// verify with retries. Each must end with the old build serving from the old
// file, or an honest exit 5 naming what is left.
import { expect } from 'chai';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, linkSync, mkdtempSync, readFileSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CANONICAL_STEPS, type LabFleet } from '../../lab/fleet.js';
import { CLI, runCli, type CliResult } from '../cli/run-cli.js';
import { expectServingOld, hostState, labFleet, sha256File } from './lab-helpers.js';

function startCli(args: string[]): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : null), stdout, stderr })));
  return { child, done };
}

async function until(what: string, ok: () => boolean, ms = 30_000, every = 20): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

const journalOf = (f: LabFleet) => join(f.hosts[0].root, 'logs', 'hotswap.journal');
const journal = (f: LabFleet) => (existsSync(journalOf(f)) ? readFileSync(journalOf(f), 'utf8') : '');

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('faults injected during an upgrade on real nginx', function () {
  this.timeout(180_000);
  let fleet: LabFleet | undefined;
  const cleanups: (() => void)[] = [];
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await fleet?.stop();
    fleet = undefined;
    for (const c of cleanups.splice(0).reverse()) c();
  });

  it('restores by hard link when the binary\'s file system has no free inode left (ext4 with 16 inodes)', async () => {
    fleet = await labFleet(1);
    const h = fleet.hosts[0];
    const before = hostState(h);
    const sbin = dirname(h.binaryPath);
    // the binary's directory becomes a small ext4 file system holding the same old build
    const img = join(mkdtempSync(join(tmpdir(), 'hotswap-inodes-')), 'fs.img');
    writeFileSync(img, '');
    execFileSync('truncate', ['-s', '64M', img]);
    try {
      execFileSync('mkfs.ext4', ['-q', '-N', '16', '-F', img]);
      execFileSync('mount', ['-o', 'loop', img, sbin]);
    } catch (err) {
      throw new Error(`this test needs mkfs.ext4 (e2fsprogs), mount (util-linux) and loop devices, as root: ${(err as Error).message}`);
    }
    cleanups.push(() => {
      execFileSync('umount', ['-l', sbin]);
      rmSync(dirname(img), { recursive: true, force: true });
    });
    rmSync(join(sbin, 'lost+found'), { recursive: true, force: true });
    copyFileSync(fleet.builds.old.path, h.binaryPath);
    chmodSync(h.binaryPath, 0o755);
    // a second name for the same inode: replacing the binary then frees no inode
    linkSync(h.binaryPath, join(sbin, 'keep'));
    chownSync(sbin, fleet.user.uid, fleet.user.gid);
    chownSync(h.binaryPath, fleet.user.uid, fleet.user.gid);
    // leave exactly two inodes: one for the upload, one for the backup. At the
    // restore none is left: the new build runs from its own, the old one is
    // kept by \`keep\`, and a copy of the backup (what hotswap did before) fails.
    let n = 0;
    while (statfsSync(sbin).ffree > 2) writeFileSync(join(sbin, `fill-${n++}`), '');
    expect(statfsSync(sbin).ffree).to.equal(2);

    const steps = CANONICAL_STEPS.replace('contains: ok', 'contains: "never in the body"');
    const r = await runCli(['apply', await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'), { steps }), '--yes', '--report', join(fleet.dir, 'run.json')]);
    expect(r.code, r.stdout + r.stderr).to.equal(1);
    expect(r.stderr).to.match(/restored \S+ from \S+ \(hard link\)/);
    expectServingOld(fleet, 0, before.pid);
    expect(readdirSync(sbin).filter((f) => f.includes('hotswap')), 'no temp file left').to.deep.equal([]);
    // every action of the rollback is in the host's journal and in the report
    expect(journal(fleet)).to.match(/"action":"restore [^"]+ from [^"]+: check its sha256/);
    expect(journal(fleet)).to.match(/"action":"send HUP to the old master \(pid \d+\)/);
    const report = JSON.parse(readFileSync(join(fleet.dir, 'run.json'), 'utf8'));
    const actions = report.hosts[0].rollback.actions.map((a: { description: string }) => a.description);
    expect(actions.length, JSON.stringify(report.hosts[0].rollback)).to.be.at.least(5);
    expect(actions[0]).to.match(/^restore /);
  });

  it('restores by a copy, and says why, when the backup is on another file system (no hard link across file systems)', async () => {
    fleet = await labFleet(1);
    const before = hostState(fleet.hosts[0]);
    const other = mkdtempSync('/dev/shm/hotswap-backup-');
    cleanups.push(() => rmSync(other, { recursive: true, force: true }));
    chownSync(other, fleet.user.uid, fleet.user.gid);
    expect(statfsSync(other).type, '/dev/shm is another file system than the lab').not.to.equal(statfsSync(fleet.dir).type);
    const steps = CANONICAL_STEPS.replace('backup: { keep: 3 }', `backup: { dest: "${other}/nginx.bak" }`).replace('contains: ok', 'contains: "never in the body"');
    const r = await runCli(['apply', await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'), { steps }), '--yes']);
    expect(r.code, r.stdout + r.stderr).to.equal(1);
    expect(r.stderr).to.match(/restored \S+ from \S+\/nginx\.bak by a copy: no hard link could be made \(ln: .*(cross-device|Invalid)/);
    expectServingOld(fleet, 0, before.pid);
  });

  it('a new build that hangs when started as a master: the file is restored at once and the process USR2 started is stopped (exit 1)', async () => {
    fleet = await labFleet(1);
    const before = hostState(fleet.hosts[0]);
    // -t and -V run the real new build (the staged checks pass); started as a
    // master it only sleeps, with the signals nginx blocks still blocked (TERM
    // is then ignored: the rollback has to KILL it)
    const hang = join(fleet.dir, 'hanging-nginx');
    // a copy the lab user can run: the project may sit in a 0700 home
    const real = join(fleet.dir, 'real-new-nginx');
    copyFileSync(fleet.builds.new.path, real);
    chmodSync(real, 0o755);
    writeFileSync(hang, `#!/bin/sh\nfor a in "$@"; do case $a in -t|-V|-v) exec ${real} "$@" ;; esac; done\nexec sleep 600\n`);
    chmodSync(hang, 0o755);
    const steps = CANONICAL_STEPS.replace('until: new-master-ready, timeout: 10s', 'until: new-master-ready, timeout: 2s');
    const started = Date.now();
    const r = await runCli(['apply', await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'), { build: hang, steps }), '--yes']);
    const ms = Date.now() - started;
    expect(r.code, r.stdout + r.stderr).to.equal(1);
    expect(r.stderr).to.match(/new-master-ready: timed out/);
    expect(r.stderr, r.stderr).to.match(/stopped pid \d+, the process USR2 started, which never became a ready master \(TERM(, then KILL after 2s)?\)/);
    expect(r.stdout).to.match(/lab-1 +ok=0 changed=0 failed=0 rolled_back=1/);
    expectServingOld(fleet, 0, before.pid);
    expect(ms, 'no 30 s wait for a master that never answers').to.be.below(20_000);
    expect(journal(fleet)).to.match(/"action":"send QUIT to the new master; if it never became ready, stop the process USR2 started/);
  });

  it('the new master killed right after the old master exits: failed (never changed), the old file restored, exit 5 saying how to start nginx', async () => {
    fleet = await labFleet(1);
    const h = fleet.hosts[0];
    const before = hostState(h);
    const file = await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'));
    const run = startCli(['apply', file, '--yes']);
    children.push(run.child);
    // what systemd does to a Type=forking unit without PIDFile= once the old master is gone
    await until('the run sent USR2', () => journal(fleet!).includes('send USR2'), 30_000);
    await until('the old master exited', () => !alive(before.pid), 60_000, 1);
    const newPid = Number(readFileSync(h.pidFile, 'utf8').trim());
    process.kill(newPid, 'SIGTERM');
    const r = await run.done;
    expect(r.code, r.stdout + r.stderr).to.equal(5);
    expect(r.stdout).to.match(/lab-1 +ok=0 changed=0 failed=1/);
    expect(r.stdout + r.stderr).to.match(/the new master did not hold after the old master exited/);
    expect(r.stdout + r.stderr).to.match(/NOTHING SERVES: .*holds the old build again.*Start nginx now: .*cd .* && .*sbin\/nginx/);
    expect(sha256File(h.binaryPath), 'the old file is back').to.equal(fleet.builds.old.sha256);
    await until('the new master is gone', () => !alive(newPid), 10_000);
  });

  it('a step\'s timeout bounds the whole step: a verify with 9 retries under `timeout: 2s` fails at about 3s and the host is rolled back', async () => {
    fleet = await labFleet(1);
    const before = hostState(fleet.hosts[0]);
    const steps = CANONICAL_STEPS.replace('contains: ok', 'contains: "never in the body"').replace('  - verify:\n      running_binary: new', '  - timeout: 2s\n    verify:\n      running_binary: new\n      retries: 9\n      interval: 1s');
    expect(steps).to.include('timeout: 2s\n    verify:');
    const r = await runCli(['apply', await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'), { steps }), '--yes']);
    expect(r.code, r.stdout + r.stderr).to.equal(1);
    const step = /\[lab-1\] 7\. verify: failed \(([0-9.]+)(ms|s)\): (.*)/.exec(r.stderr);
    expect(step, r.stderr).to.not.equal(null);
    const ms = Number(step![1]) * (step![2] === 's' ? 1000 : 1);
    expect(ms).to.be.within(2000, 5000);
    expect(step![3]).to.match(/^the step's timeout \(2s\) was reached during: check that the master runs the new build/);
    expectServingOld(fleet, 0, before.pid);
  });

  it('SIGTERM during a verify with retries is answered within about a second: rolled back, exit 130', async () => {
    fleet = await labFleet(1);
    const before = hostState(fleet.hosts[0]);
    const steps = CANONICAL_STEPS.replace('contains: ok', 'contains: "never in the body"').replace('running_binary: new', 'running_binary: new\n      retries: 9\n      interval: 1s');
    const run = startCli(['apply', await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'), { steps }), '--yes', '--json']);
    children.push(run.child);
    await until('the run sent WINCH', () => journal(fleet!).includes('send WINCH'), 30_000);
    await new Promise((r) => setTimeout(r, 1500)); // inside verify's retries
    const sent = Date.now();
    run.child.kill('SIGTERM');
    const r = await run.done;
    const events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; ts: string; phase?: string });
    const rb = events.find((e) => e.type === 'rollback-start');
    expect(r.code, r.stderr).to.equal(130);
    expect(rb?.phase).to.equal('winch');
    expect(Date.parse(rb!.ts) - sent, 'the rollback starts within about a second of SIGTERM').to.be.below(1200);
    expect(Date.now() - sent, 'and the run ends soon after, not after the 9 retries').to.be.below(6000);
    expectServingOld(fleet, 0, before.pid);
  });
});
