import { expect } from 'chai';
import type { Socket } from 'node:net';
import { existsSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import { CANONICAL_STEPS, type LabFleet } from '../../lab/fleet.js';
import { startSshd } from '../../lab/sshd.js';
import { CLI, runCli, type CliResult } from '../cli/run-cli.js';
import { expectServingOld, hostState, labFleet, leftovers } from './lab-helpers.js';
import { holdConnection } from '../../lab/load.js';


function startCli(args: string[]): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : null), stdout, stderr })));
  return { child, done };
}

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const journalOf = (f: LabFleet) => join(f.hosts[0].root, 'logs', 'hotswap.journal');
const sentWinch = (f: LabFleet) => existsSync(journalOf(f)) && readFileSync(journalOf(f), 'utf8').includes('send WINCH');
const slowSteps = (timeout: string) => CANONICAL_STEPS.replace('until: old-workers-exited, timeout: 30s', `until: old-workers-exited, timeout: ${timeout}`);

describe('safety and recovery on real nginx', function () {
  this.timeout(180_000);
  let fleet: LabFleet | undefined;
  const sockets: Socket[] = [];
  // CLI runs to kill, and servers a test started itself (both by pid)
  const children: (ChildProcess | { stop(): Promise<void> })[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) {
      if ('stop' in c) await c.stop();
      else if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
    for (const s of sockets.splice(0)) s.destroy();
    await fleet?.stop();
    fleet = undefined;
  });

  async function midWait(opts: { local: boolean; timeout?: string }) {
    fleet = await labFleet(1);
    const before = hostState(fleet.hosts[0]);
    const file = await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'), { steps: slowSteps(opts.timeout ?? '60s'), local: opts.local ? ['lab-1'] : [] });
    sockets.push(await holdConnection(fleet.hosts[0].port));
    const run = startCli(['apply', file, '--yes']);
    children.push(run.child);
    await until('the run sent WINCH', () => sentWinch(fleet!));
    return { file, before, run };
  }

  it('refuses a second run on a locked host, naming the holder; after kill -9 mid-wait, status explains and rollback undoes', async () => {
    const { file, before, run } = await midWait({ local: true });
    const second = await runCli(['apply', file, '--yes']);
    expect(second.code).to.equal(4);
    expect(second.stdout).to.match(new RegExp(`locked: .*hotswap\\.lock is held by .*@${hostname()} \\(pid ${run.child.pid}, apply\\)`));
    expect(leftovers(fleet!.hosts[0]), 'a run refused by the lock uploads nothing').to.deep.equal([]);

    run.child.kill('SIGKILL');
    await run.done;
    const status = await runCli(['status', file]);
    expect(status.code, status.stderr).to.equal(0);
    expect(status.stdout, status.stdout).to.match(/upgrade in progress: two masters, old workers gone \(after WINCH\): old master \d+, new master \d+/);
    expect(status.stdout, status.stdout).to.match(/INTERRUPTED in phase "usr2", while: send WINCH to the old master \(pid \d+\); undo it with hotswap rollback/);
    expect(status.stdout).to.match(/lock: held: /);

    const third = await runCli(['apply', file, '--yes']);
    expect(third.code).to.equal(4);
    expect(third.stdout).to.match(/that process is gone \(stale lock\): pass --break-lock/);
    const blind = await runCli(['apply', file, '--yes', '--break-lock']);
    expect(blind.code).to.equal(4);
    expect(blind.stdout).to.match(/an interrupted run .* left this host mid-upgrade, in phase "usr2" while: send WINCH .*hotswap rollback/);
    expect(leftovers(fleet!.hosts[0]), 'the upload sent beside the lock and facts is removed from a refused host').to.deep.equal([]);

    const rb = await runCli(['rollback', file, '--yes', '--break-lock']);
    expect(rb.code, rb.stdout + rb.stderr).to.equal(0);
    expect(rb.stderr).to.match(/\[lab-1\] rolled_back: from phase "winch": restored \S+ from \S+ \(hard link\); HUP -> \d+/);
    expectServingOld(fleet!, 0, before.pid);
    const again = await runCli(['status', file]);
    expect(again.stdout).to.match(/last run \w+ \(started [^)]+\): ended rolled_back/);
    expect(again.stdout).to.match(/lock: free/);
  });

  it('on SIGINT mid-wait, rolls the host in flight back and exits 130', async () => {
    const { before, run } = await midWait({ local: true });
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code, r.stderr).to.equal(130);
    expect(r.stderr).to.match(/SIGINT: no new host will be started; hosts in flight are rolled back to a serving state: lab-1/);
    expect(r.stderr).to.match(/rolling back \(winch\)/);
    const after = hostState(fleet!.hosts[0]);
    expect(after.pid).to.equal(before.pid);
    expect(after.exeSha).to.equal(fleet!.builds.old.sha256);
    expect(after.oldbin).to.equal(false);
    expect(existsSync(join(fleet!.hosts[0].root, 'logs', 'hotswap.lock'))).to.equal(false);
  });

  it('times out a wait held open by a client, says what keeps the old worker alive, and rolls back', async () => {
    fleet = await labFleet(1);
    const before = hostState(fleet.hosts[0]);
    const file = await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'), { steps: slowSteps('1s') });
    sockets.push(await holdConnection(fleet.hosts[0].port));
    const r = await runCli(['apply', file, '--yes']);
    expect(r.code, r.stderr).to.equal(1);
    expect(r.stderr).to.match(/old-workers-exited: timed out after 1000 ms: 1 old worker process\(es\) still running.*1 TCP established/);
    const after = hostState(fleet.hosts[0]);
    expect(after.pid).to.equal(before.pid);
    expect(after.exeSha).to.equal(fleet.builds.old.sha256);
    expect(after.oldbin).to.equal(false);
    expect(after.workers).to.be.at.least(2);
  });

  it('when the SSH server stops mid-upgrade, says how to recover; rollback then restores the host', async () => {
    const { file, before, run } = await midWait({ local: false });
    const { port, dir } = fleet!.sshd;
    await fleet!.sshd.stop();
    const r = await run.done;
    expect(r.code, r.stderr).to.equal(5);
    expect(r.stdout).to.match(/the connection could not be restored with the host at phase "winch".*Recover with: hotswap rollback .*fleet\.yaml --limit lab-1/);
    // the server comes back; the operator follows the instruction
    mkdirSync(dir, { recursive: true });
    const sshd = await startSshd({ dir, port });
    children.push({ stop: () => sshd.stop() });
    const rb = await runCli(['rollback', file, '--yes', '--break-lock']);
    expect(rb.code, rb.stdout + rb.stderr).to.equal(0);
    const after = hostState(fleet!.hosts[0]);
    expect(after.pid).to.equal(before.pid);
    expect(after.exeSha).to.equal(fleet!.builds.old.sha256);
    expect(after.fileSha).to.equal(fleet!.builds.old.sha256);
    expect(after.oldbin).to.equal(false);
  });

  it('rollback refuses a host with no recorded backup, and after an upgrade goes back by a second hot upgrade', async () => {
    fleet = await labFleet(1);
    const file = await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'), { local: ['lab-1'] });
    const none = await runCli(['rollback', file, '--yes']);
    expect(none.code).to.equal(4);
    expect(none.stderr).to.match(/no recorded backup to go back to/);
    expect((await runCli(['apply', file, '--yes'])).code).to.equal(0);
    const upgraded = hostState(fleet.hosts[0]);
    expect(upgraded.exeSha).to.equal(fleet.builds.new.sha256);
    const rb = await runCli(['rollback', file, '--yes']);
    expect(rb.code, rb.stdout + rb.stderr).to.equal(0);
    const after = hostState(fleet.hosts[0]);
    expect(after.pid).not.to.equal(upgraded.pid);
    expect(after.exeSha).to.equal(fleet.builds.old.sha256);
    expect(after.fileSha).to.equal(fleet.builds.old.sha256);
    expect(after.oldbin).to.equal(false);
    expect(after.workers).to.equal(2);
  });
});


