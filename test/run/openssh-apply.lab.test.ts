import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabFleet } from '../../lab/fleet.js';
import { runCli } from '../cli/run-cli.js';
import { hostState, labFleet, leftovers } from './lab-helpers.js';

/** The lab playbook, reached through the operator's own ssh instead of the built-in client. */
async function withOpenssh(fleet: LabFleet, file: string): Promise<string> {
  await fleet.writePlaybook(file);
  const text = await readFile(file, 'utf8');
  if (!text.includes('  host_key_checking: strict\n')) throw new Error('the lab playbook changed: put ssh.client elsewhere');
  await writeFile(file, text.replace('  host_key_checking: strict\n', '  host_key_checking: strict\n  client: openssh\n'));
  return file;
}

describe('hotswap apply with ssh.client: openssh', function () {
  this.timeout(180_000);
  let fleet: LabFleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });

  it('upgrades real lab nginx hosts through ssh ControlMaster connections, and leaves no ssh behind', async () => {
    fleet = await labFleet(2);
    const before = fleet.hosts.map(hostState);
    const r = await runCli(['apply', await withOpenssh(fleet, join(fleet.dir, 'fleet.yaml')), '--yes']);
    expect(r.code, r.stderr + r.stdout).to.equal(0);
    for (const [i, h] of fleet.hosts.entries()) {
      const s = hostState(h);
      expect(s.exeSha, h.name).to.equal(fleet.builds.new.sha256);
      expect(s.fileSha).to.equal(fleet.builds.new.sha256);
      expect(s.pid).not.to.equal(before[i]!.pid);
      expect(s.oldbin).to.equal(false);
      expect(s.workers).to.equal(2);
      expect(leftovers(h)).to.deep.equal([]);
    }
    expect(r.stdout).to.match(/total +ok=0 changed=2 failed=0/);
    // every master and client was stopped when hotswap ended
    const { execFileSync } = await import('node:child_process');
    const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    expect(ps.split('\n').filter((l) => l.includes('hotswap-ssh-'))).to.deep.equal([]);
  });

  it('reports a host it cannot log in to as unreachable, in ssh\'s words', async () => {
    fleet = await labFleet(1);
    const file = await withOpenssh(fleet, join(fleet.dir, 'fleet.yaml'));
    await writeFile(file, (await readFile(file, 'utf8')).replace(/identity_file: .*\n/, `identity_file: ${JSON.stringify(join(fleet.dir, 'no-such-key'))}\n`));
    const r = await runCli(['apply', file, '--yes']);
    expect(r.code).not.to.equal(0);
    expect(r.stdout + r.stderr).to.match(/unreachable/i);
    expect(r.stdout + r.stderr).to.match(/no-such-key does not exist/);
  });

  it('refuses ssh.identity_passphrase_env, which ssh cannot be given, before touching a host', async () => {
    fleet = await labFleet(1);
    const file = await withOpenssh(fleet, join(fleet.dir, 'fleet.yaml'));
    await writeFile(file, (await readFile(file, 'utf8')).replace('  client: openssh\n', '  client: openssh\n  identity_passphrase_env: HOTSWAP_KEY_PASSPHRASE\n'));
    const before = hostState(fleet.hosts[0]!);
    const r = await runCli(['apply', file, '--yes']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/ssh\.client: openssh: ssh\.identity_passphrase_env .*ssh-agent/);
    expect(r.stderr).not.to.match(/\n\s+at /); // no stack trace
    expect(hostState(fleet.hosts[0]!).pid).to.equal(before.pid);
  });
});
