import { expect } from 'chai';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLabUser } from '../../lab/lab-user.js';
import { startSshd, type Sshd } from '../../lab/sshd.js';
import { ensureSudo, grantSudo, type SudoGrant } from '../../lab/sudo.js';
import type { ResolvedHost } from '../../src/playbook/resolved.js';
import type { Playbook } from '../../src/playbook/schema.js';
import { connector } from '../../src/run/connect.js';
import { JournaledTransport } from '../../src/run/journaled.js';
import { becomeSudo } from '../../src/transport/become.js';
import { LocalTransport } from '../../src/transport/local.js';
import { connectSsh, type SshConnection, type SshOptions } from '../../src/transport/ssh.js';
import { NotRunError } from '../../src/transport/transport.js';
import { contract } from './contract.js';

// Every wrapper a host's transport can be wrapped in keeps the same contract,
// and offers what the transport it wraps offers (freeBytes, sequence).

/** A lab sshd and a connection to it as `user` (default: whoever runs the tests). */
async function labSsh(label: string, opts: Partial<SshOptions> = {}): Promise<{ sshd: Sshd; conn: SshConnection; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'hotswap-sshd-'));
  await chmod(dir, 0o755); // sshd reads authorized_keys there as the login user
  const sshd = await startSshd({ dir });
  const conn = await connectSsh({
    host: label, address: '127.0.0.1', port: sshd.port, user: sshd.user, identityFile: sshd.identityFile,
    connectTimeoutMs: 5_000, hostKeyChecking: 'strict', knownHostsFile: sshd.knownHostsFile, ...opts,
  });
  return { sshd, conn, stop: async () => { await sshd.stop(); await rm(dir, { recursive: true, force: true }); } };
}

// become: sudo over ssh, as a login that may sudo without a password (the
// lab's own user and sudoers drop-in, not the ones test/ssh/become uses).
contract('become: sudo over ssh', async () => {
  ensureSudo();
  const user = await ensureLabUser('hotswap-contract');
  const grant: SudoGrant = await grantSudo(user.name, { password: false });
  let lab: Awaited<ReturnType<typeof labSsh>> | undefined;
  try {
    lab = await labSsh('lab-become', { user: user.name });
    const transport = await becomeSudo(lab.conn);
    return {
      transport,
      inner: lab.conn,
      freeBytes: { no: 'an upload under sudo goes through a temp file and a move: it starts after pre-flight, not early' },
      cleanup: async () => { await grant.revoke(); await lab?.stop(); },
    };
  } catch (e) {
    await grant.revoke();
    await lab?.conn.close();
    await lab?.stop();
    throw e;
  }
});

// The journal wrapper every host's steps run through (HostRun), with no line pending.
contract('journal wrapper over ssh', async () => {
  const lab = await labSsh('lab-journal');
  return { transport: new JournaledTransport(lab.conn), inner: lab.conn, freeBytes: true, cleanup: lab.stop };
});

// A host behind a bastion, as run/connect.ts hands it to the steps
// (ssh.proxy_jump): the bastion's connection from its pool, the host's over a
// channel forwarded by it, closing the host letting go of the bastion.
contract('bastion wrapper over ssh (run/connect.ts, ssh.proxy_jump)', async () => {
  const target = await labSsh('lab-behind');
  const inner = target.conn; // the same host reached directly: what the wrapper must match
  const dir = await mkdtemp(join(tmpdir(), 'hotswap-bastion-'));
  let bastion: Sshd | undefined;
  const cleanup = async () => {
    await inner.close();
    await bastion?.stop();
    await target.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const clientKey = (await readFile(`${target.sshd.identityFile}.pub`, 'utf8')).trim();
    bastion = await startSshd({ dir, authorizedKeys: [clientKey], extraConfig: [`PermitOpen 127.0.0.1:${target.sshd.port}`] });
    const knownHosts = join(dir, 'known_hosts');
    await writeFile(knownHosts, [target.sshd, bastion].map((s) => `[127.0.0.1]:${s.port} ${s.hostKeyPublic}\n`).join(''));
    const config = join(dir, 'ssh_config'); // empty: only the playbook's settings apply
    await writeFile(config, '');
    const user = target.sshd.user;
    const playbook = {
      version: 1, name: 'contract', hosts: ['lab-behind'], nginx: { prefix: '/' }, steps: [{ verify: {} }],
      ssh: { identity_file: target.sshd.identityFile, known_hosts: knownHosts, config_file: config, proxy_jump: `${user}@127.0.0.1:${bastion.port}` },
    } as Playbook;
    const host: ResolvedHost = {
      name: 'lab-behind', connection: 'ssh', ssh: { address: '127.0.0.1', port: target.sshd.port, user, identityFile: target.sshd.identityFile },
      nginx: { prefix: '/', binary: '/', pid_file: '/', conf: '/', error_log: '/' }, steps: [], groups: [],
    };
    const connect = connector(playbook, {
      local: { home: join(dir, 'empty-home'), user, uid: 0, hostname: 'control' },
      askPassphrase: () => Promise.reject(new Error('no prompt expected')),
    });
    return { transport: await connect(host), inner, freeBytes: true, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
});

// What only the journal wrapper does: a line announced before the next
// command goes with a sequence's first command, in the same round trip.
describe('journal wrapper: a pending line and a sequence', function () {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'hotswap-journal-seq-')); });
  after(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('writes the line before the first command, once, and runs the rest behind it', async () => {
    const jt = new JournaledTransport(new LocalTransport('localhost'));
    const journal = join(dir, 'journal');
    jt.before(journal, 'line one');
    const [a, b] = jt.sequence([{ argv: ['cat', journal] }, { argv: ['printf', 'second'] }]);
    expect((await a!).stdout).to.equal('line one\n');
    expect((await b!).stdout).to.equal('second');
    await jt.sequence([{ argv: ['true'] }])[0];
    expect((await jt.exec(['cat', journal])).stdout).to.equal('line one\n');
  });

  it('runs none of them when the line cannot be written, and says so', async () => {
    const jt = new JournaledTransport(new LocalTransport('localhost'));
    const flag = join(dir, 'ran');
    jt.before(join(dir, 'no-such-dir', 'journal'), 'lost line');
    const [a, b] = jt.sequence([{ argv: ['sh', '-c', 'printf x > "$1"', 'sh', flag] }, { argv: ['printf', 'second'] }]);
    expect(await a!.then(() => null, (e: Error) => e.message)).to.match(/^cannot write the journal .*no-such-dir\/journal/);
    expect(await b!.then(() => null, (e: Error) => e)).to.be.instanceOf(NotRunError);
    expect((await jt.exec(['sh', '-c', '[ -e "$1" ] && echo ran || echo not run', 'sh', flag])).stdout).to.equal('not run\n');
  });
});
