import { expect } from 'chai';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startLabFleet, type LabFleet } from '../../lab/fleet.js';
import { freePort } from '../../lab/free-port.js';
import { startSshd, type Sshd } from '../../lab/sshd.js';
import { runCli } from '../cli/run-cli.js';
import { hostState } from '../run/lab-helpers.js';
import { eventually, hostItem, openTempDir, writePlaybook } from './helpers.js';

// sshd at DEBUG logs every forwarding it makes for a client:
// "server_request_direct_tcpip: originator 127.0.0.1 port 0, target 127.0.0.1 port 2222"
const forwarded = (log: string, port: number) => new RegExp(`target 127\\.0\\.0\\.1 port ${port}\r?\n`).test(log);
const logins = (log: string) => (log.match(/Accepted publickey for /g) ?? []).length;

describe('ssh: bastions (ProxyJump) with real sshd servers', function () {
  this.timeout(120_000);
  let dir: string;
  let fleet: LabFleet;
  /** bastions: b1 may forward to the fleet's sshd and to b2; b2 only to the fleet; deny to nowhere useful */
  let b1: Sshd;
  let b2: Sshd;
  let deny: Sshd;
  let knownHosts: string;

  before(async () => {
    dir = await openTempDir('hotswap-bastion-');
    fleet = await startLabFleet({ dir: join(dir, 'fleet'), hosts: 3 });
    const clientKey = (await readFile(`${fleet.sshd.identityFile}.pub`, 'utf8')).trim();
    const b2Port = await freePort();
    const bastion = (name: string, permit: string[], port?: number) =>
      startSshd({ dir: join(dir, name), logLevel: 'DEBUG', authorizedKeys: [clientKey], extraConfig: [`PermitOpen ${permit.join(' ')}`], ...(port ? { port } : {}) });
    b2 = await bastion('b2', [`127.0.0.1:${fleet.sshd.port}`], b2Port);
    b1 = await bastion('b1', [`127.0.0.1:${fleet.sshd.port}`, `127.0.0.1:${b2Port}`]);
    deny = await bastion('deny', ['127.0.0.1:1']);
    knownHosts = join(dir, 'known_hosts');
    await writeFile(knownHosts, [fleet.sshd, b1, b2, deny].map((s) => `[127.0.0.1]:${s.port} ${s.hostKeyPublic}\n`).join(''));
  });
  after(async () => {
    for (const s of [b1, b2, deny]) await s?.stop();
    await fleet?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const direct = (name: string) => {
    const h = fleet.hosts.find((x) => x.name === name)!;
    return hostItem(name, h, { address: '127.0.0.1', port: fleet.sshd.port, user: fleet.user.name });
  };

  it('upgrades two hosts through one bastion (ssh.proxy_jump), logging in to it once for both', async () => {
    const before = b1.output().length;
    const file = await writePlaybook(join(dir, 'via-b1.yaml'), {
      build: fleet.builds.new.path,
      hosts: [direct('lab-1'), direct('lab-2')],
      ssh: { identity_file: fleet.sshd.identityFile, known_hosts: knownHosts, proxy_jump: `${fleet.user.name}@127.0.0.1:${b1.port}`, config_file: '/dev/null' },
    });
    const r = await runCli(['apply', file, '--yes']);
    expect(r.code, r.stderr).to.equal(0);
    for (const h of fleet.hosts.slice(0, 2)) expect(hostState(h).exeSha, h.name).to.equal(fleet.builds.new.sha256);
    await eventually('the bastion log', () => forwarded(b1.output().slice(before), fleet.sshd.port));
    expect(logins(b1.output().slice(before)), 'one bastion connection shared by both hosts').to.equal(1);
  });

  it('goes through the bastion, not around it: one that may not forward there makes the host unreachable (exit 3)', async () => {
    const file = await writePlaybook(join(dir, 'via-deny.yaml'), {
      build: fleet.builds.new.path,
      hosts: [direct('lab-3')],
      ssh: { identity_file: fleet.sshd.identityFile, known_hosts: knownHosts, proxy_jump: `${fleet.user.name}@127.0.0.1:${deny.port}`, config_file: '/dev/null' },
    });
    const before = hostState(fleet.hosts[2]!);
    const r = await runCli(['apply', file, '--yes']);
    expect(r.code, r.stderr).to.equal(3);
    expect(r.stderr).to.contain(`lab-3: bastion 127.0.0.1 (127.0.0.1:${deny.port}) cannot connect to 127.0.0.1:${fleet.sshd.port}`);
    expect(r.stderr, r.stderr).to.match(/prohibited/i);
    expect(hostState(fleet.hosts[2]!).exeSha).to.equal(before.exeSha);
  });

  it('verifies a bastion\'s host key like any host: unknown, it is refused before logging in to it', async () => {
    const partial = join(dir, 'known_hosts.partial');
    await writeFile(partial, `[127.0.0.1]:${fleet.sshd.port} ${fleet.sshd.hostKeyPublic}\n`);
    const before = b1.output().length;
    const file = await writePlaybook(join(dir, 'unknown-bastion.yaml'), {
      build: fleet.builds.new.path,
      hosts: [direct('lab-3')],
      ssh: { identity_file: fleet.sshd.identityFile, known_hosts: partial, proxy_jump: `${fleet.user.name}@127.0.0.1:${b1.port}`, config_file: '/dev/null' },
    });
    const r = await runCli(['apply', file, '--yes']);
    expect(r.code, r.stderr).to.equal(3);
    const fp = (await import('../../src/transport/known-hosts.js')).fingerprint({ type: 'ssh-ed25519', base64: b1.hostKeyPublic.split(' ')[1]! });
    expect(r.stderr).to.contain(`lab-3: bastion 127.0.0.1 (127.0.0.1:${b1.port}): unknown host key ssh-ed25519 ${fp}: not in ${partial}`);
    await new Promise((res) => setTimeout(res, 200));
    expect(logins(b1.output().slice(before))).to.equal(0);
  });

  it('reaches an ~/.ssh/config alias through two bastions, each named only in the config', async () => {
    const config = join(dir, 'ssh_config');
    await writeFile(config, `# an operator's config: the playbook names only "edge-3"
Host edge-3
  HostName 127.0.0.1
  Port ${fleet.sshd.port}
  ProxyJump jump-2
Host jump-2
  HostName 127.0.0.1
  Port ${b2.port}
  ProxyJump jump-1
Host jump-1
  HostName 127.0.0.1
  Port ${b1.port}
Host *
  User ${fleet.user.name}
  IdentityFile ${fleet.sshd.identityFile}
  UserKnownHostsFile ${knownHosts}
`);
    const [from1, from2] = [b1.output().length, b2.output().length];
    const file = await writePlaybook(join(dir, 'alias.yaml'), {
      build: fleet.builds.new.path,
      hosts: [hostItem('edge-3', fleet.hosts[2]!)],
      ssh: { config_file: config },
    });
    const started = Date.now();
    const r = await runCli(['apply', file, '--yes']);
    expect(r.code, r.stderr).to.equal(0);
    expect(hostState(fleet.hosts[2]!).exeSha).to.equal(fleet.builds.new.sha256);
    await eventually('both bastion logs', () => forwarded(b1.output().slice(from1), b2.port) && forwarded(b2.output().slice(from2), fleet.sshd.port));
    expect(Date.now() - started).to.be.below(60_000);
  });
});
