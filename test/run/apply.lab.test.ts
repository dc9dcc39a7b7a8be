import { expect } from 'chai';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabFleet } from '../../lab/fleet.js';
import { runLoad } from '../../lab/load.js';
import { runCli } from '../cli/run-cli.js';
import { expectServingOld, hostState, labFleet, leftovers } from './lab-helpers.js';

describe('hotswap apply on real nginx over SSH', function () {
  this.timeout(120_000);
  let fleet: LabFleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });

  it('upgrades several hosts: the new build runs, old master gone, no .oldbin, backup kept, workers up', async () => {
    fleet = await labFleet(3);
    const before = fleet.hosts.map(hostState);
    const file = await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'), { local: ['lab-3'] });
    const r = await runCli(['apply', file, '--yes']);
    expect(r.code, r.stderr).to.equal(0);
    for (const [i, h] of fleet.hosts.entries()) {
      const s = hostState(h);
      expect(s.exeSha, h.name).to.equal(fleet.builds.new.sha256);
      expect(s.fileSha).to.equal(fleet.builds.new.sha256);
      expect(s.pid).not.to.equal(before[i].pid);
      expect(s.oldbin).to.equal(false);
      expect(s.workers).to.equal(2);
      expect(s.backups).to.have.length(1);
      expect(hostStateOf(before[i].pid)).to.be.oneOf(['gone', 'Z']);
    }
    expect(r.stdout).to.match(/lab-1 +ok=0 changed=1 failed=0 rolled_back=0 unreachable=0 skipped=0/);
    expect(r.stdout).to.match(/total +ok=0 changed=3 failed=0/);
  });

  it('upgrades 12 hosts at once without a Node warning on stderr (each host in flight listens for an interrupt)', async () => {
    fleet = await labFleet(12);
    const r = await runCli(['apply', await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml')), '--yes']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/total +ok=0 changed=12 failed=0/);
    expect(r.stderr).not.to.match(/Warning|\(node:\d+\)/);
  });

  it('drops no request among new connections during the upgrade', async () => {
    fleet = await labFleet(1);
    const h = fleet.hosts[0];
    const load = runLoad({ url: `http://127.0.0.1:${h.port}/`, concurrency: 8, durationMs: 20_000, maxRequests: 200_000, keepAlive: false });
    await new Promise((r) => setTimeout(r, 300));
    const r = await runCli(['apply', await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml')), '--yes']);
    await new Promise((r) => setTimeout(r, 300));
    load.controller.abort();
    const result = await load.done;
    expect(r.code, r.stderr).to.equal(0);
    expect(hostState(h).exeSha).to.equal(fleet.builds.new.sha256);
    expect(result.ok).to.be.greaterThan(100);
    expect(result.failed, JSON.stringify(result.errors)).to.equal(0);
  });

  it('rolls back a new binary that cannot start (exit 1), old build serving', async () => {
    fleet = await labFleet(1);
    const broken = join(fleet.dir, 'broken-nginx');
    writeFileSync(broken, '#!/bin/sh\nexit 1\n');
    chmodSync(broken, 0o755);
    const before = hostState(fleet.hosts[0]);
    const steps = (await import('../../lab/fleet.js')).CANONICAL_STEPS.replace('copy-binary: { src: "{{ build }}" }', 'copy-binary: { src: "{{ build }}", test_config: false }');
    const r = await runCli(['apply', await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'), { build: broken, steps }), '--yes']);
    expect(r.code, r.stderr).to.equal(1);
    expect(r.stderr).to.match(/new-master-ready/);
    expect(r.stdout).to.match(/lab-1 +ok=0 changed=0 failed=0 rolled_back=1/);
    expectServingOld(fleet, 0, before.pid);
  });

  it('refuses (exit 4) a new binary whose nginx -t fails, before any signal, file untouched and no temp file left', async () => {
    fleet = await labFleet(1);
    const broken = join(fleet.dir, 'broken-nginx');
    writeFileSync(broken, '#!/bin/sh\necho "nginx: [emerg] unknown directive" >&2\nexit 1\n');
    chmodSync(broken, 0o755);
    const before = hostState(fleet.hosts[0]);
    const r = await runCli(['apply', await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'), { build: broken }), '--yes']);
    expect(r.code, r.stderr).to.equal(4);
    expect(r.stderr).to.match(/refused .*nginx -t.*unknown directive/);
    const after = hostState(fleet.hosts[0]);
    expect(after.pid).to.equal(before.pid);
    expect(after.fileSha).to.equal(fleet.builds.old.sha256);
    expect(leftovers(fleet.hosts[0])).to.deep.equal([]);
  });

  it('leaves no uploaded build behind when the backup beside the upload fails, with on_failure rollback and stop', async () => {
    fleet = await labFleet(2);
    const before = fleet.hosts.map(hostState);
    const steps = (await import('../../lab/fleet.js')).CANONICAL_STEPS.replace('backup: { keep: 3 }', 'backup: { keep: 3, dest: "/nonexistent-hotswap-dir/nginx.bak" }');
    const rolled = await runCli(['apply', await fleet.writePlaybook(join(fleet.dir, 'a.yaml'), { steps, only: ['lab-1'] }), '--yes']);
    expect(rolled.code, rolled.stderr).to.equal(1);
    expect(rolled.stdout).to.match(/lab-1 +ok=0 changed=0 failed=0 rolled_back=1/);
    const stopped = await runCli(['apply', await fleet.writePlaybook(join(fleet.dir, 'b.yaml'), { steps, only: ['lab-2'], extra: 'on_failure: stop' }), '--yes']);
    expect(stopped.code, stopped.stderr).to.equal(1);
    expect(stopped.stdout).to.match(/lab-2 +ok=0 changed=0 failed=1/);
    for (const [i, h] of fleet.hosts.entries()) {
      const after = hostState(h);
      expect(after.pid, h.name).to.equal(before[i].pid);
      expect(after.fileSha, h.name).to.equal(fleet.builds.old.sha256);
      expect(leftovers(h), h.name).to.deep.equal([]);
    }
  });

  it('rolls back after WINCH when a health check fails: HUP old, QUIT new, old build serving', async () => {
    fleet = await labFleet(1);
    const before = hostState(fleet.hosts[0]);
    const steps = (await import('../../lab/fleet.js')).CANONICAL_STEPS.replace('contains: ok', 'contains: "never in the body"');
    const r = await runCli(['apply', await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'), { steps }), '--yes']);
    expect(r.code, r.stderr).to.equal(1);
    expect(r.stderr).to.match(/rolling back \(winch\)/);
    expect(r.stderr).to.match(/HUP -> \d+/);
    expectServingOld(fleet, 0, before.pid);
  });

  it('changes nothing on a second run and exits 0', async () => {
    fleet = await labFleet(2);
    const file = await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'));
    expect((await runCli(['apply', file, '--yes'])).code).to.equal(0);
    const first = fleet.hosts.map(hostState);
    const r = await runCli(['apply', file, '--yes']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/total +ok=2 changed=0/);
    expect(fleet.hosts.map(hostState)).to.deep.equal(first);
    // the build was sent while the facts were read, then found already running: removed
    for (const h of fleet.hosts) expect(leftovers(h), h.name).to.deep.equal([]);
  });

  it('refuses to change hosts without a terminal unless --yes, and changes nothing', async () => {
    fleet = await labFleet(1);
    const before = hostState(fleet.hosts[0]);
    const r = await runCli(['apply', await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'))]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/no terminal to ask on: refusing \(pass --yes to confirm\)/);
    expect(hostState(fleet.hosts[0])).to.deep.equal(before);
  });

  it('reports an unreachable host with exit 3 and upgrades the others', async () => {
    fleet = await labFleet(2);
    const text = fleet.playbook().replace(`port: ${fleet.sshd.port}, user: ${fleet.user.name}, vars: { prefix: ${JSON.stringify(fleet.hosts[1].root)}`, `port: 1, user: ${fleet.user.name}, vars: { prefix: ${JSON.stringify(fleet.hosts[1].root)}`);
    const file = join(fleet.dir, 'fleet.yaml');
    writeFileSync(file, text);
    const r = await runCli(['apply', file, '--yes']);
    expect(r.code, r.stderr).to.equal(3);
    expect(r.stdout).to.match(/lab-2 +ok=0 changed=0 failed=0 rolled_back=0 unreachable=1/);
    expect(hostState(fleet.hosts[0]).exeSha).to.equal(fleet.builds.new.sha256);
  });
});

function hostStateOf(pid: number): string {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
  } catch {
    return 'gone';
  }
}
