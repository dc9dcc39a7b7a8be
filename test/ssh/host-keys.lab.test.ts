import { expect } from 'chai';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startLabFleet, type LabFleet } from '../../lab/fleet.js';
import { fingerprint } from '../../src/transport/known-hosts.js';
import { runCli } from '../cli/run-cli.js';
import { hostState } from '../run/lab-helpers.js';
import { hostItem, openTempDir, otherKey, run, writePlaybook } from './helpers.js';

describe('ssh: host key checking through the CLI', function () {
  this.timeout(120_000);
  let dir: string;
  let fleet: LabFleet;
  let token: string;
  let hostFp: string;
  let n = 0;
  const file = (name: string) => join(dir, `${++n}-${name}`);

  before(async () => {
    dir = await openTempDir('hotswap-hostkeys-');
    fleet = await startLabFleet({ dir: join(dir, 'fleet'), hosts: 1 });
    token = `[127.0.0.1]:${fleet.sshd.port}`;
    const [type, base64] = fleet.sshd.hostKeyPublic.split(' ') as [string, string];
    hostFp = `${type} ${fingerprint({ type, base64 })}`;
  });
  after(async () => {
    await fleet?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const apply = async (ssh: Record<string, string | undefined>) => {
    const h = fleet.hosts[0]!;
    const pb = await writePlaybook(file('playbook.yaml'), {
      build: fleet.builds.new.path,
      hosts: [hostItem('lab-1', h, { address: '127.0.0.1', port: fleet.sshd.port, user: fleet.user.name })],
      ssh: { identity_file: fleet.sshd.identityFile, config_file: '/dev/null', ...ssh },
    });
    return runCli(['apply', pb, '--yes']);
  };

  it('strict: an unknown host is unreachable (exit 3): host, key type, SHA256 fingerprint, the file checked', async () => {
    const known = file('known_hosts');
    await writeFile(known, `other.example ${otherKey()}\n`);
    const before = hostState(fleet.hosts[0]!);
    const r = await apply({ known_hosts: known, host_key_checking: 'strict' });
    expect(r.code, r.stderr).to.equal(3);
    expect(r.stderr).to.contain(`lab-1 (127.0.0.1:${fleet.sshd.port}): unknown host key ${hostFp}: not in ${known}; refusing (host_key_checking: strict)`);
    expect(hostState(fleet.hosts[0]!).fileSha).to.equal(before.fileSha);
  });

  it('strict is the default, and a changed key names the known_hosts file and line that disagrees', async () => {
    const known = file('known_hosts');
    const old = otherKey();
    await writeFile(known, `# fleet\nother.example ${otherKey()}\n${token} ${old}\n`);
    const r = await apply({ known_hosts: known });
    expect(r.code, r.stderr).to.equal(3);
    const [type, base64] = old.split(' ') as [string, string];
    expect(r.stderr).to.contain(`HOST KEY CHANGED: server offers ${hostFp}, but ${known}:3 has ${type} ${fingerprint({ type, base64 })}; refusing`);
  });

  it('accept-new: records the key as OpenSSH does (ssh-keygen -F finds it), upgrades, then refuses a changed key leaving the file alone', async () => {
    const known = join(dir, 'fresh', 'known_hosts'); // the directory does not exist yet
    const r = await apply({ known_hosts: known, host_key_checking: 'accept-new' });
    expect(r.code, r.stderr).to.equal(0);
    expect(hostState(fleet.hosts[0]!).exeSha).to.equal(fleet.builds.new.sha256);
    expect(await readFile(known, 'utf8')).to.equal(`${token} ${fleet.sshd.hostKeyPublic}\n`);
    expect((await run('ssh-keygen', ['-F', token, '-f', known])).stdout).to.contain(fleet.sshd.hostKeyPublic);

    const changed = `${token} ${otherKey()}\n`;
    await writeFile(known, changed);
    const again = await apply({ known_hosts: known, host_key_checking: 'accept-new' });
    expect(again.code, again.stderr).to.equal(3);
    expect(again.stderr).to.contain('HOST KEY CHANGED').and.contain(`${known}:1`);
    expect(await readFile(known, 'utf8')).to.equal(changed);
  });

  it('hashed entries (ssh-keygen -H) are understood; with HashKnownHosts yes accept-new writes hashed ones', async () => {
    const hashed = file('known_hosts');
    await writeFile(hashed, `${token} ${fleet.sshd.hostKeyPublic}\n`);
    await run('ssh-keygen', ['-H', '-f', hashed]);
    expect(await readFile(hashed, 'utf8')).not.to.contain('127.0.0.1');
    const r = await apply({ known_hosts: hashed });
    expect(r.code, r.stderr).to.equal(0);

    // no playbook setting: ~/.ssh/config (here ssh.config_file) decides, as for `ssh`
    await mkdir(join(dir, 'cfg'), { recursive: true });
    const known = join(dir, 'cfg', 'known_hosts');
    const config = join(dir, 'cfg', 'config');
    await writeFile(config, `Host *\n  StrictHostKeyChecking accept-new\n  HashKnownHosts yes\n  UserKnownHostsFile ${known}\n  GlobalKnownHostsFile none\n`);
    const viaConfig = await apply({ config_file: config });
    expect(viaConfig.code, viaConfig.stderr).to.equal(0);
    const text = await readFile(known, 'utf8');
    expect(text).to.match(/^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 [A-Za-z0-9+/=]+\n$/);
    expect(text).not.to.contain('127.0.0.1');
    expect((await run('ssh-keygen', ['-F', token, '-f', known])).stdout).to.contain(fleet.sshd.hostKeyPublic.split(' ')[1]);
  });

  it('off: connects to an unknown host and warns loudly, naming the setting', async () => {
    const r = await apply({ known_hosts: file('absent'), host_key_checking: 'off' });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.contain('WARNING: host key checking is OFF (host_key_checking: off)').and.contain(hostFp);
  });
});
