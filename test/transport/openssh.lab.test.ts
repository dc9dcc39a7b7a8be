import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../lab/free-port.js';
import { startSshd, type Sshd } from '../../lab/sshd.js';
import { configValue, masterArgs } from '../../src/transport/openssh-args.js';
import { opensshProblem } from '../../src/transport/openssh-connector.js';
import { connectOpenssh } from '../../src/transport/openssh.js';
import { UnreachableError } from '../../src/transport/transport.js';

const sshG = (args: string[]): Promise<string> => new Promise((resolve, reject) => {
  execFile('ssh', ['-G', ...args], (err, out, stderr) => (err ? reject(new Error(`ssh -G failed: ${stderr || err.message} (install openssh-client)`)) : resolve(out)));
});
/** ssh -G's value of one keyword (lowercased), every line of it */
const field = (out: string, key: string) => out.split('\n').filter((l) => l.startsWith(`${key} `)).map((l) => l.slice(key.length + 1));

describe('openssh client: the command line, as ssh itself reads it (ssh -G)', () => {
  it('passes user, port, identity file, known_hosts and the host key mode, with awkward paths intact', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hotswap-openssh-args-'));
    try {
      const id = join(dir, 'key with space %h "q" \\ #');
      const known = join(dir, "known 'hosts' %d");
      const args = masterArgs({ destination: 'edge-1', user: 'deploy', port: 2222, identityFile: id, knownHostsFile: known, hostKeyChecking: 'accept-new', connectTimeoutMs: 2_500 }, join(dir, 'master'));
      // -G prints the config: drop the options it does not take (-M -N -T) and keep the rest as given
      const out = await sshG(['-F', '/dev/null', ...args.filter((a) => !['-M', '-N', '-T'].includes(a))]);
      expect(field(out, 'user')).to.deep.equal(['deploy']);
      expect(field(out, 'port')).to.deep.equal(['2222']);
      // -G shows IdentityFile before %-expansion (%% is the literal %), UserKnownHostsFile after it
      expect(field(out, 'identityfile')[0]).to.equal(id.replace(/%/g, '%%'));
      expect(field(out, 'userknownhostsfile')).to.deep.equal([known]);
      expect(field(out, 'globalknownhostsfile')).to.deep.equal(['none']);
      expect(field(out, 'stricthostkeychecking')).to.deep.equal(['accept-new']);
      expect(field(out, 'connecttimeout')).to.deep.equal(['3']);
      expect(field(out, 'batchmode')).to.deep.equal(['yes']);
      expect(field(out, 'controlpath')).to.deep.equal([join(dir, 'master')]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('maps strict and off to StrictHostKeyChecking yes and no, and leaves unset what the playbook does not set', async () => {
    const strict = await sshG(['-F', '/dev/null', ...masterArgs({ destination: 'h', hostKeyChecking: 'strict' }, '/tmp/x').slice(3)]);
    expect(field(strict, 'stricthostkeychecking')).to.deep.equal(['true']);
    const off = await sshG(['-F', '/dev/null', ...masterArgs({ destination: 'h', hostKeyChecking: 'off' }, '/tmp/x').slice(3)]);
    expect(field(off, 'stricthostkeychecking')).to.deep.equal(['false']);
    const plain = masterArgs({ destination: 'h' }, '/tmp/x');
    expect(plain.join(' ')).not.to.match(/StrictHostKeyChecking|UserKnownHostsFile|-l |-p /);
  });

  it('quotes a config value only when ssh would split it', () => {
    expect(configValue('/plain/path', true)).to.equal('/plain/path');
    expect(configValue('/a b', false)).to.equal('"/a b"');
    expect(configValue('50%', true)).to.equal('50%%');
  });

  it('refuses playbook settings ssh would not apply, naming them', () => {
    expect(opensshProblem({ identity_passphrase_env: 'X' })).to.match(/identity_passphrase_env.*ssh-agent/);
    expect(opensshProblem({ proxy_jump: 'bastion', known_hosts: '/k' })).to.match(/ssh\.known_hosts would not apply to it/);
    expect(opensshProblem({ proxy_jump: 'bastion', host_key_checking: 'strict' })).to.equal(undefined);
    expect(opensshProblem({ proxy_jump: 'none', known_hosts: '/k' })).to.equal(undefined);
    expect(opensshProblem({ known_hosts: '/k', identity_file: '/i' })).to.equal(undefined);
  });
});

describe('openssh client against the lab sshd', function () {
  this.timeout(120_000);
  let sshd: Sshd;
  let dir: string;
  const base = () => ({ host: 'lab', destination: '127.0.0.1', port: sshd.port, user: sshd.user, identityFile: sshd.identityFile, knownHostsFile: sshd.knownHostsFile, connectTimeoutMs: 5_000 });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hotswap-openssh-'));
    sshd = await startSshd({ dir: join(dir, 'sshd') });
  });
  after(async () => {
    await sshd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('kills the program on the host when a command times out', async () => {
    const t = await connectOpenssh(base());
    try {
      const pidFile = join(dir, 'sleeper.pid');
      const err = await t.exec(['sh', '-c', 'echo $$ > "$1"; exec sleep 60', 'sh', pidFile], { timeoutMs: 1_000 }).then(() => null, (e: Error) => e);
      expect(err?.message).to.match(/timed out after 1000 ms/);
      const pid = Number((await readFile(pidFile, 'utf8')).trim());
      let alive = true;
      for (let i = 0; i < 50 && alive; i++) {
        alive = existsSync(`/proc/${pid}`);
        if (alive) await new Promise((r) => setTimeout(r, 100));
      }
      expect(alive, `sleep (pid ${pid}) still runs on the host`).to.equal(false);
    } finally {
      await t.close();
    }
  });

  it('opens TCP connections from the host through the master, and says when one is refused', async () => {
    const port = await freePort();
    const server: Server = createServer((s) => s.end('hello from the host\n'));
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    const t = await connectOpenssh(base());
    try {
      const sock = await t.openTcp('127.0.0.1', port);
      const chunks: Buffer[] = [];
      await new Promise<void>((resolve, reject) => sock.on('data', (d: Buffer) => chunks.push(d)).on('end', resolve).on('error', reject));
      expect(Buffer.concat(chunks).toString()).to.equal('hello from the host\n');
      sock.destroy();
      const closed = await freePort();
      const bad = await t.openTcp('127.0.0.1', closed);
      const err = await new Promise<Error | null>((resolve) => { bad.on('error', resolve); bad.on('close', () => resolve(null)); bad.resume(); });
      expect(err?.message).to.match(new RegExp(`cannot open 127.0.0.1:${closed} from the host`));
    } finally {
      await t.close();
      server.close();
    }
  });

  it('closes: the master exits and its private socket directory is gone', async () => {
    const t = await connectOpenssh(base());
    const inside = t as unknown as { master: { pid: number }; dir: string };
    const { pid } = inside.master;
    const socketDir = inside.dir;
    expect(existsSync(join(socketDir, 'master'))).to.equal(true);
    await t.close();
    expect(existsSync(`/proc/${pid}`) && !(await readFile(`/proc/${pid}/stat`, 'utf8')).includes(') Z ')).to.equal(false);
    expect(existsSync(socketDir)).to.equal(false);
  });

  it('says a refused connection is unreachable, in ssh\'s words', async () => {
    const port = await freePort();
    const err = await connectOpenssh({ ...base(), port }).then(() => null, (e: Error) => e);
    expect(err).to.be.instanceOf(UnreachableError);
    expect(err?.message).to.match(/Connection refused/);
  });

  it('refuses an unknown host key under strict checking (no prompt), and an identity file that does not exist', async () => {
    const empty = join(dir, 'empty_known_hosts');
    await writeFile(empty, '');
    const err = await connectOpenssh({ ...base(), knownHostsFile: empty, hostKeyChecking: 'strict' }).then(() => null, (e: Error) => e);
    expect(err).to.be.instanceOf(UnreachableError);
    expect(err?.message).to.match(/Host key verification failed/);
    const missing = await connectOpenssh({ ...base(), identityFile: join(dir, 'nope') }).then(() => null, (e: Error) => e);
    expect(missing?.message).to.match(/identity file .*nope does not exist/);
  });

  it('uses the operator\'s ProxyCommand from the ssh config (ssh runs it, not hotswap)', async () => {
    const proxy = join(dir, 'proxy.mjs');
    const used = join(dir, 'proxy-used');
    await writeFile(proxy, [
      "import { connect } from 'node:net';",
      "import { writeFileSync } from 'node:fs';",
      `writeFileSync(${JSON.stringify(used)}, process.argv.slice(2).join(' '));`,
      'const s = connect(Number(process.argv[3]), process.argv[2]);',
      'process.stdin.pipe(s); s.pipe(process.stdout);',
      '',
    ].join('\n'));
    const config = join(dir, 'proxied_config');
    await writeFile(config, [
      'Host via-proxy',
      '  HostName 127.0.0.1',
      `  ProxyCommand ${process.execPath} ${proxy} %h %p`,
      '',
    ].join('\n'));
    const t = await connectOpenssh({ ...base(), destination: 'via-proxy', configFile: config });
    try {
      expect((await t.exec(['printf', 'through the proxy'])).stdout).to.equal('through the proxy');
      expect(await readFile(used, 'utf8')).to.equal(`127.0.0.1 ${sshd.port}`);
    } finally {
      await t.close();
    }
  });

  it('fails commands as unreachable once the connection is lost', async () => {
    const own = await startSshd({ dir: join(dir, 'short-lived') });
    const t = await connectOpenssh({ ...base(), port: own.port, knownHostsFile: own.knownHostsFile, identityFile: own.identityFile });
    try {
      expect((await t.exec(['true'])).code).to.equal(0);
      await own.stop();
      let err: unknown;
      for (let i = 0; i < 50 && !err; i++) {
        await t.exec(['true']).catch((e) => { err = e; });
        if (!err) await new Promise((r) => setTimeout(r, 100));
      }
      expect(err).to.be.instanceOf(UnreachableError);
    } finally {
      await t.close();
    }
  });
});
