import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSshd, type Sshd } from '../../lab/sshd.js';
import { LocalTransport } from '../../src/transport/local.js';
import { connectOpenssh } from '../../src/transport/openssh.js';
import { connectSsh } from '../../src/transport/ssh.js';
import { NotRunError, UnreachableError, type Transport } from '../../src/transport/transport.js';

const HOSTILE = [
  'plain', 'with space', "single'quote", 'double"quote', '$(id)', '`id`', '; rm -rf /nonexistent', 'line\nbreak',
  '*', '', '\\', '$HOME', '&& exit 1', '| cat', '> /tmp/x', '~', '-n', '--', 'tab\there', 'héllo ✓', "'",
];

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// One behaviour for every transport: the steps above must not care which one runs them.
function contract(name: string, open: () => Promise<{ transport: Transport; cleanup(): Promise<void> }>) {
  describe(`Transport contract: ${name}`, function () {
    let t: Transport;
    let cleanup: () => Promise<void>;
    let dir: string;

    before(async () => {
      ({ transport: t, cleanup } = await open());
      dir = await mkdtemp(join(tmpdir(), 'hotswap-contract-'));
    });
    after(async () => {
      await t?.close();
      await cleanup?.();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('passes every hostile argument through byte-exact', async () => {
      for (const arg of HOSTILE) {
        const r = await t.exec(['printf', '%s', arg]);
        expect(r, JSON.stringify(arg)).to.deep.equal({ stdout: arg, stderr: '', code: 0 });
      }
      const all = await t.exec(['printf', '%s\\0', ...HOSTILE]);
      expect(all.stdout.split('\0').slice(0, -1)).to.deep.equal(HOSTILE);
    });

    it('reports exit codes, including 127 for a missing program and null for a signal', async () => {
      expect((await t.exec(['true'])).code).to.equal(0);
      expect((await t.exec(['false'])).code).to.equal(1);
      expect((await t.exec(['sh', '-c', 'exit 7'])).code).to.equal(7);
      expect((await t.exec(['/nonexistent/hotswap-no-such-program'])).code).to.equal(127);
      expect((await t.exec(['sh', '-c', 'kill -9 $$'])).code).to.equal(null);
    });

    it('keeps stdout and stderr apart', async () => {
      const r = await t.exec(['sh', '-c', 'printf out; printf err >&2']);
      expect(r).to.deep.equal({ stdout: 'out', stderr: 'err', code: 0 });
    });

    it('writes stdin then closes it, text and binary', async () => {
      expect((await t.exec(['cat'], { stdin: 'line 1\nline 2 ✓\n' })).stdout).to.equal('line 1\nline 2 ✓\n');
      const blob = randomBytes(300_000);
      const r = await t.exec(['sha256sum'], { stdin: blob });
      expect(r.stdout.split(' ')[0]).to.equal(sha256(blob));
      expect((await t.exec(['wc', '-c'])).stdout.trim()).to.equal('0'); // no stdin: EOF at once
    });

    it('rejects on timeout, kills the program and stays usable', async () => {
      const started = Date.now();
      let err: Error | undefined;
      await t.exec(['sleep', '10'], { timeoutMs: 300 }).catch((e: Error) => { err = e; });
      expect(err?.message).to.match(/timed out after 300 ms/);
      expect(Date.now() - started).to.be.below(3_000);
      expect((await t.exec(['printf', 'still here'])).stdout).to.equal('still here');
    });

    it('runs a command given afterPrevious right after the one before, and only if that one exited 0', async () => {
      const flag = join(dir, 'after-previous');
      // given in the same tick: the second must still see what the first did
      const first = t.exec(['sh', '-c', 'sleep 0.2; printf done > "$1"', 'sh', flag]);
      const second = t.exec(['cat', flag], { afterPrevious: true });
      expect((await first).code).to.equal(0);
      expect((await second).stdout).to.equal('done');

      const failing = t.exec(['sh', '-c', 'printf x > "$1"; exit 3', 'sh', flag]);
      const skipped = t.exec(['sh', '-c', 'printf ran > "$1"', 'sh', flag], { afterPrevious: true });
      expect((await failing).code).to.equal(3);
      const err = await skipped.then(() => null, (e: Error) => e);
      expect(err).to.be.instanceOf(NotRunError);
      expect((await t.exec(['cat', flag])).stdout).to.equal('x');
      // with stdin (an exec channel over SSH) too
      const again = t.exec(['false']);
      const withStdin = t.exec(['cat'], { stdin: 'in', afterPrevious: true });
      expect((await again).code).to.equal(1);
      expect(await withStdin.then(() => null, (e: Error) => e)).to.be.instanceOf(NotRunError);
      expect((await t.exec(['printf', 'still here'])).stdout).to.equal('still here');
    });

    it('times a command given afterPrevious from when the one before it is done', async () => {
      const slow = t.exec(['sh', '-c', 'sleep 0.5; printf slow'], { timeoutMs: 5_000 });
      const quick = t.exec(['printf', 'quick'], { afterPrevious: true, timeoutMs: 300 });
      expect((await slow).stdout).to.equal('slow');
      expect((await quick).stdout).to.equal('quick');
    });

    it('runs many commands at once over one transport', async () => {
      const results = await Promise.all(Array.from({ length: 25 }, (_, i) => t.exec(['printf', '%s', String(i)])));
      expect(results.map((r) => r.stdout)).to.deep.equal(Array.from({ length: 25 }, (_, i) => String(i)));
    });

    it('puts a 1.3 MB file byte-exact with mode 0600, also over an existing file', async () => {
      const data = randomBytes(1_300_000);
      const remote = join(dir, 'far side with space');
      await writeFile(remote, 'old', { mode: 0o755 });
      await t.put(data, remote);
      expect((await t.exec(['sha256sum', remote])).stdout.split(' ')[0]).to.equal(sha256(data));
      expect((await t.exec(['stat', '-c', '%a %s', remote])).stdout.trim()).to.equal(`600 ${data.length}`);
    });

    it('puts an empty file, and one byte, with mode 0600', async () => {
      for (const data of [Buffer.alloc(0), Buffer.from('x')]) {
        const remote = join(dir, `small-${data.length}`);
        await t.put(data, remote);
        expect((await t.exec(['stat', '-c', '%a %s', remote])).stdout.trim()).to.equal(`600 ${data.length}`);
      }
    });

    it('refuses a relative destination', async () => {
      let err: Error | undefined;
      await t.put(Buffer.from('x'), 'relative/path').catch((e: Error) => { err = e; });
      expect(err?.message).to.match(/absolute/);
    });

    it('closes, and then refuses work as unreachable', async () => {
      await t.close();
      await t.close();
      let err: unknown;
      await t.exec(['true']).catch((e) => { err = e; });
      expect(err).to.be.instanceOf(UnreachableError);
    });
  });
}

contract('local', async () => ({ transport: new LocalTransport('localhost'), cleanup: async () => {} }));

let sshd: Sshd | undefined;
contract('ssh', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hotswap-sshd-'));
  sshd = await startSshd({ dir });
  const transport = await connectSsh({
    host: 'lab-ssh', address: '127.0.0.1', port: sshd.port, user: sshd.user, identityFile: sshd.identityFile,
    connectTimeoutMs: 5_000, hostKeyChecking: 'strict', knownHostsFile: sshd.knownHostsFile,
  });
  return {
    transport,
    cleanup: async () => {
      await sshd?.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

// The operator's own ssh, multiplexed: the lab host is named only in an ssh
// config (HostName, Port, User, IdentityFile, known_hosts), which ssh reads itself.
let sshdForOpenssh: Sshd | undefined;
contract('openssh', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hotswap-sshd-'));
  sshdForOpenssh = await startSshd({ dir });
  const s = sshdForOpenssh;
  const config = join(dir, 'ssh_config');
  await writeFile(config, [
    'Host lab-openssh',
    '  HostName 127.0.0.1',
    `  Port ${s.port}`,
    `  User ${s.user}`,
    `  IdentityFile ${s.identityFile}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${s.knownHostsFile}`,
    '  StrictHostKeyChecking yes',
    '',
  ].join('\n'));
  const transport = await connectOpenssh({ host: 'lab-openssh', destination: 'lab-openssh', configFile: config, connectTimeoutMs: 5_000 });
  return {
    transport,
    cleanup: async () => {
      await sshdForOpenssh?.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
