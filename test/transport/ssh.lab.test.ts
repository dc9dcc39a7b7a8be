import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../lab/free-port.js';
import { startSshd, type Sshd } from '../../lab/sshd.js';
import { fingerprint } from '../../src/transport/known-hosts.js';
import { connectSsh, type SshOptions } from '../../src/transport/ssh.js';
import { UnreachableError } from '../../src/transport/transport.js';

const run = promisify(execFile);

/** A fresh ed25519 public key as `type base64`, for "someone else's" host key. */
function otherKey(): string {
  const x = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(v); return b; };
  const str = (b: Buffer) => Buffer.concat([u32(b.length), b]);
  return `ssh-ed25519 ${Buffer.concat([str(Buffer.from('ssh-ed25519')), str(x)]).toString('base64')}`;
}

async function refusal(opts: SshOptions): Promise<UnreachableError> {
  const err = await connectSsh(opts).then(
    async (t) => { await t.close(); throw new Error('connected, expected a refusal'); },
    (e: unknown) => e,
  );
  expect(err).to.be.instanceOf(UnreachableError);
  const u = err as UnreachableError;
  expect(u.message, 'one line, no stack').not.to.match(/\n|\bat .*:\d+:\d+/);
  return u;
}

describe('ssh transport: connecting and host keys', function () {
  let sshd: Sshd;
  let dir: string;
  let hostFp: string;
  let opts: (over?: Partial<SshOptions>) => SshOptions;
  let n = 0;
  const file = (name: string) => join(dir, `${++n}-${name}`);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hotswap-ssh-'));
    sshd = await startSshd({ dir: join(dir, 'sshd'), logLevel: 'VERBOSE' });
    const [type, base64] = sshd.hostKeyPublic.split(' ') as [string, string];
    hostFp = `${type} ${fingerprint({ type, base64 })}`;
    opts = (over = {}) => ({
      host: 'edge-1', address: '127.0.0.1', port: sshd.port, user: sshd.user, identityFile: sshd.identityFile,
      connectTimeoutMs: 5_000, hostKeyChecking: 'strict', knownHostsFile: sshd.knownHostsFile, ...over,
    });
  });
  after(async () => {
    await sshd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('strict: connects when known_hosts lists the key', async () => {
    const t = await connectSsh(opts());
    expect((await t.exec(['printf', 'ok'])).stdout).to.equal('ok');
    await t.close();
  });

  it('strict: refuses an unknown host before authenticating, naming host, key type and fingerprint', async () => {
    const knownHostsFile = file('known_hosts');
    await writeFile(knownHostsFile, `other.example ${otherKey()}\n`);
    const logBefore = sshd.output().length;
    const err = await refusal(opts({ knownHostsFile }));
    expect(err.host).to.equal('edge-1');
    expect(err.message).to.contain(`edge-1 (127.0.0.1:${sshd.port})`).and.contain(hostFp).and.contain('unknown host key');
    // The client key was never offered: sshd logs every key it is shown at VERBOSE.
    const clientFp = (await run('ssh-keygen', ['-lf', `${sshd.identityFile}.pub`])).stdout.split(' ')[1]!;
    expect(sshd.output().slice(logBefore)).not.to.contain(clientFp);
    await (await connectSsh(opts())).close(); // control: a trusted connection does show it
    for (let i = 0; i < 50 && !sshd.output().slice(logBefore).includes(clientFp); i++) await new Promise((r) => setTimeout(r, 20));
    expect(sshd.output().slice(logBefore)).to.contain(clientFp);
    expect(await readFile(knownHostsFile, 'utf8')).not.to.contain(sshd.hostKeyPublic); // nothing recorded
  });

  it('strict: refuses a missing known_hosts file the same way', async () => {
    const err = await refusal(opts({ knownHostsFile: file('absent') }));
    expect(err.message).to.contain('unknown host key');
  });

  it('strict: refuses a changed key, naming the known_hosts file:line that disagrees', async () => {
    const knownHostsFile = file('known_hosts');
    await writeFile(knownHostsFile, `# team hosts\nother.example ${otherKey()}\n[127.0.0.1]:${sshd.port} ${otherKey()}\n`);
    const err = await refusal(opts({ knownHostsFile }));
    expect(err.message).to.contain('HOST KEY CHANGED').and.contain(`${knownHostsFile}:3`).and.contain(hostFp);
  });

  it('accept-new: records an unknown key so that OpenSSH agrees, then strict accepts it', async () => {
    const knownHostsFile = join(dir, 'fresh', 'known_hosts'); // directory does not exist yet
    const t = await connectSsh(opts({ hostKeyChecking: 'accept-new', knownHostsFile }));
    await t.close();
    expect(await readFile(knownHostsFile, 'utf8')).to.equal(`[127.0.0.1]:${sshd.port} ${sshd.hostKeyPublic}\n`);
    await run('ssh', [
      '-o', `UserKnownHostsFile=${knownHostsFile}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=yes',
      '-o', 'BatchMode=yes', '-F', '/dev/null', '-p', String(sshd.port), '-i', sshd.identityFile, '127.0.0.1', 'true',
    ]);
    const again = await connectSsh(opts({ knownHostsFile }));
    await again.close();
  });

  it('accept-new: appends after a last line without a newline', async () => {
    const knownHostsFile = file('known_hosts');
    const other = `other.example ${otherKey()}`;
    await writeFile(knownHostsFile, other);
    await (await connectSsh(opts({ hostKeyChecking: 'accept-new', knownHostsFile }))).close();
    expect(await readFile(knownHostsFile, 'utf8')).to.equal(`${other}\n[127.0.0.1]:${sshd.port} ${sshd.hostKeyPublic}\n`);
  });

  it('accept-new: still refuses a changed key and leaves the file alone', async () => {
    const knownHostsFile = file('known_hosts');
    const content = `[127.0.0.1]:${sshd.port} ${otherKey()}\n`;
    await writeFile(knownHostsFile, content);
    const err = await refusal(opts({ hostKeyChecking: 'accept-new', knownHostsFile }));
    expect(err.message).to.contain('HOST KEY CHANGED').and.contain(`${knownHostsFile}:1`);
    expect(await readFile(knownHostsFile, 'utf8')).to.equal(content);
  });

  it('matches entries hashed by ssh-keygen -H', async () => {
    const knownHostsFile = file('known_hosts');
    await writeFile(knownHostsFile, `other.example ${otherKey()}\n[127.0.0.1]:${sshd.port} ${sshd.hostKeyPublic}\n`);
    await run('ssh-keygen', ['-H', '-f', knownHostsFile]);
    const hashed = await readFile(knownHostsFile, 'utf8');
    expect(hashed).not.to.contain('127.0.0.1');
    await (await connectSsh(opts({ knownHostsFile }))).close();
  });

  it('refuses a key marked @revoked, in every mode', async () => {
    const knownHostsFile = file('known_hosts');
    await writeFile(knownHostsFile, `[127.0.0.1]:${sshd.port} ${sshd.hostKeyPublic}\n@revoked * ${sshd.hostKeyPublic}\n`);
    for (const hostKeyChecking of ['strict', 'accept-new', 'off'] as const) {
      const err = await refusal(opts({ hostKeyChecking, knownHostsFile }));
      expect(err.message).to.contain('@revoked').and.contain(`${knownHostsFile}:2`);
    }
  });

  it('off: connects to an unknown host and warns loudly on stderr, once', async () => {
    const writes: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => { writes.push(String(chunk)); return true; }) as typeof process.stderr.write;
    try {
      for (let i = 0; i < 2; i++) await (await connectSsh(opts({ hostKeyChecking: 'off', knownHostsFile: file('absent') }))).close();
    } finally {
      process.stderr.write = orig;
    }
    const warnings = writes.filter((w) => /host key checking is OFF/.test(w));
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.contain(hostFp);
    expect(existsSync(join(dir, `${n}-absent`))).to.equal(false); // off records nothing
  });

  it('a closed port is unreachable at once', async () => {
    const port = await freePort();
    const started = Date.now();
    const err = await refusal(opts({ port }));
    expect(err.message).to.equal(`edge-1 (127.0.0.1:${port}): connection refused`);
    expect(Date.now() - started).to.be.below(1_000);
  });

  it('a server that never speaks SSH times out as unreachable', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((s) => { sockets.add(s); s.on('error', () => undefined); });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = Date.now();
      const err = await refusal(opts({ port, connectTimeoutMs: 500 }));
      expect(err.message).to.match(new RegExp(`^edge-1 \\(127\\.0\\.0\\.1:${port}\\): connection timed out after 500 ms`));
      expect(Date.now() - started).to.be.below(2_500);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('a key the server does not accept is an authentication failure', async () => {
    const identityFile = file('id_ed25519');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', identityFile]);
    const err = await refusal(opts({ identityFile }));
    expect(err.message).to.equal(`edge-1 (127.0.0.1:${sshd.port}): authentication failed as ${sshd.user} (tried ${identityFile})`);
  });

  it('a passphrase-protected key without an agent is refused without trying it', async () => {
    const identityFile = file('id_locked');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret passphrase', '-f', identityFile]);
    const agent = process.env.SSH_AUTH_SOCK;
    delete process.env.SSH_AUTH_SOCK;
    try {
      const err = await refusal(opts({ identityFile }));
      expect(err.message).to.contain('passphrase-protected').and.not.contain('secret');
    } finally {
      if (agent !== undefined) process.env.SSH_AUTH_SOCK = agent;
    }
  });

  it('put falls back to cat when the server has no SFTP subsystem', async () => {
    const bare = await startSshd({ dir: join(dir, 'sshd-no-sftp'), sftp: false });
    try {
      const t = await connectSsh(opts({ port: bare.port, knownHostsFile: bare.knownHostsFile, identityFile: bare.identityFile }));
      const remote = file('uploaded');
      await t.put(Buffer.from('x'.repeat(100_000)), remote);
      expect(await readFile(remote, 'utf8')).to.equal('x'.repeat(100_000));
      expect((await t.exec(['stat', '-c', '%a', remote])).stdout.trim()).to.equal('600');
      await t.close();
    } finally {
      await bare.stop();
    }
  });

  it('put stops on an abort: it rejects soon, leaves the partial file to the caller, and the session uploads again', async () => {
    const t = await connectSsh(opts());
    try {
      const stop = new AbortController();
      const remote = file('aborted');
      const data = Buffer.alloc(64 * 1024 * 1024, 1);
      const put = t.put(data, remote, { signal: stop.signal });
      setTimeout(() => stop.abort(), 20);
      const err = await put.then(() => null, (e: Error) => e);
      expect(err?.message).to.match(/upload to .* failed: interrupted/);
      expect((await stat(remote)).size).to.be.below(data.length);
      await t.put(Buffer.from('ok'), remote);
      expect(await readFile(remote, 'utf8')).to.equal('ok');
    } finally {
      await t.close();
    }
  });

  it('a lost connection fails running and later commands as unreachable', async () => {
    const t = await connectSsh(opts());
    const running = t.exec(['sleep', '30']);
    // the sshd process serving this connection: the nearest sshd above the command
    const self = (await t.exec(['sh', '-c', 'p=$$; while [ "$(cat /proc/$p/comm)" != sshd ]; do p=$(cut -d" " -f4 /proc/$p/stat); done; echo $p'])).stdout.trim();
    await t.exec(['kill', self]).catch(() => undefined);
    const errs = await Promise.all([running.catch((e) => e), t.exec(['true']).catch((e) => e)]);
    for (const e of errs) expect(e).to.be.instanceOf(UnreachableError);
    await t.close();
  });
});
