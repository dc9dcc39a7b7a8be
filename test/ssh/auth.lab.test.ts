import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, copyFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startLabFleet, type LabFleet } from '../../lab/fleet.js';
import { waitGone } from '../../lab/processes.js';
import { connector } from '../../src/run/connect.js';
import type { ResolvedHost } from '../../src/playbook/resolved.js';
import type { Playbook } from '../../src/playbook/schema.js';
import { UnreachableError } from '../../src/transport/transport.js';
import { CLI, runCli } from '../cli/run-cli.js';
import { hostState } from '../run/lab-helpers.js';
import { eventually, hostItem, keygen, openTempDir, run, writePlaybook } from './helpers.js';

const PASSPHRASE_ENV = 'HOTSWAP_TEST_KEY_PASSPHRASE';

describe('ssh: authentication (agent, several keys, encrypted keys)', function () {
  this.timeout(120_000);
  let dir: string;
  let fleet: LabFleet;
  let passphrase: string;
  /** authorized, passphrase-protected */
  let locked: string;
  /** authorized, in the agent only */
  let agentKey: string;
  /** not authorized anywhere */
  let stranger: string;
  let agent: ChildProcess | undefined;
  let agentSock: string;
  let n = 0;

  before(async () => {
    dir = await openTempDir('hotswap-auth-');
    fleet = await startLabFleet({ dir: join(dir, 'fleet'), hosts: 1 });
    passphrase = `correct horse ${randomBytes(6).toString('hex')}`;
    locked = join(dir, 'id_locked');
    agentKey = join(dir, 'id_agent');
    stranger = join(dir, 'id_stranger');
    const authorized = [await keygen(locked, passphrase), await keygen(agentKey)];
    await keygen(stranger);
    await appendFile(join(fleet.sshd.dir, 'authorized_keys'), authorized.join('\n') + '\n');
    // a real ssh-agent holding agentKey, and the locked key's material (added from a clear copy)
    agentSock = join(dir, 'agent.sock');
    agent = spawn('ssh-agent', ['-D', '-a', agentSock], { stdio: 'ignore' });
    await eventually('ssh-agent', async () => (await run('ssh-add', ['-l'], { env: { ...process.env, SSH_AUTH_SOCK: agentSock } }).then(() => true, (e) => e.code === 1)));
    const clear = join(dir, 'id_locked_clear');
    await copyFile(locked, clear);
    await run('ssh-keygen', ['-p', '-q', '-P', passphrase, '-N', '', '-f', clear]);
    for (const k of [agentKey, clear]) await run('ssh-add', ['-q', k], { env: { ...process.env, SSH_AUTH_SOCK: agentSock } });
  });
  after(async () => {
    if (agent?.pid) {
      agent.kill('SIGTERM');
      await waitGone(agent.pid, 5_000);
    }
    await fleet?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const target = (): ResolvedHost => ({
    name: 'lab-1', connection: 'ssh', ssh: { address: '127.0.0.1', port: fleet.sshd.port, user: fleet.user.name },
    nginx: { prefix: '/', binary: '/', pid_file: '/', conf: '/', error_log: '/' }, steps: [], groups: [],
  });
  /** connects like the CLI, with a given ssh: block, agent socket and home */
  const connectWith = async (ssh: NonNullable<Playbook['ssh']>, opts: { agent?: string; identityFile?: string } = {}) => {
    const playbook = { version: 1, name: 't', hosts: ['lab-1'], nginx: { prefix: '/' }, steps: [{ verify: {} }], ssh: { known_hosts: fleet.sshd.knownHostsFile, config_file: '/dev/null', ...ssh } } as Playbook;
    const connect = connector(playbook, {
      local: { home: join(dir, 'empty-home'), user: 'nobody-here', uid: 0, hostname: 'control', ...(opts.agent ? { sshAuthSock: opts.agent } : {}) },
      askPassphrase: () => Promise.reject(new Error('no prompt expected')),
    });
    const host = target();
    if (opts.identityFile) host.ssh.identityFile = opts.identityFile;
    const t = await connect(host);
    try {
      return (await t.exec(['id', '-un'])).stdout.trim();
    } finally {
      await t.close();
    }
  };
  const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('connected, expected a failure'); }, (e: Error) => e);

  it('ssh-agent (SSH_AUTH_SOCK) alone: no key file needed', async () => {
    expect(await connectWith({}, { agent: agentSock })).to.equal(fleet.user.name);
  });

  it('an encrypted identity file whose key the agent holds: no passphrase asked', async () => {
    expect(await connectWith({}, { agent: agentSock, identityFile: locked })).to.equal(fleet.user.name);
  });

  it('several IdentityFile entries are tried in order; a failure lists what was tried', async () => {
    const config = join(dir, `${++n}-config`);
    await writeFile(config, `Host *\n  IdentityFile ${stranger}\n  IdentityFile ${join(dir, 'missing-key')}\n  IdentityFile ${fleet.sshd.identityFile}\n`);
    expect(await connectWith({ config_file: config })).to.equal(fleet.user.name);
    await writeFile(config, `Host *\n  IdentityFile ${stranger}\n`);
    const err = await failure(connectWith({ config_file: config }));
    expect(err).to.be.instanceOf(UnreachableError);
    expect(err.message).to.equal(`lab-1 (127.0.0.1:${fleet.sshd.port}): authentication failed as ${fleet.user.name} (tried ${stranger})`);
  });

  it('IdentitiesOnly: agent keys that match no IdentityFile are not offered', async () => {
    const config = join(dir, `${++n}-config`);
    await writeFile(config, `Host *\n  IdentityFile ${stranger}\n  IdentitiesOnly yes\n`);
    const err = await failure(connectWith({ config_file: config }, { agent: agentSock }));
    expect(err.message).to.match(/authentication failed/).and.not.match(/ssh-agent/);
    await writeFile(config, `Host *\n  IdentityFile ${stranger}\n`);
    expect(await connectWith({ config_file: config }, { agent: agentSock }), 'without IdentitiesOnly the agent is used').to.equal(fleet.user.name);
  });

  describe('an encrypted key through the CLI', () => {
    const playbook = async (ssh: Record<string, string | undefined>) =>
      writePlaybook(join(dir, `${++n}-playbook.yaml`), {
        build: fleet.builds.new.path,
        hosts: [hostItem('lab-1', fleet.hosts[0]!, { address: '127.0.0.1', port: fleet.sshd.port, user: fleet.user.name })],
        ssh: { identity_file: locked, known_hosts: fleet.sshd.knownHostsFile, config_file: '/dev/null', ...ssh },
      });
    const noAgent = { SSH_AUTH_SOCK: '' };

    it('the passphrase from identity_passphrase_env: upgrades, and the passphrase is never printed', async () => {
      const r = await runCli(['apply', await playbook({ identity_passphrase_env: PASSPHRASE_ENV }), '--yes'], { env: { ...noAgent, [PASSPHRASE_ENV]: passphrase } });
      expect(r.code, r.stderr).to.equal(0);
      expect(hostState(fleet.hosts[0]!).exeSha).to.equal(fleet.builds.new.sha256);
      expect(r.stdout + r.stderr).not.to.contain(passphrase);
    });

    it('no passphrase and no terminal: unreachable (exit 3), saying how to provide one', async () => {
      const r = await runCli(['apply', await playbook({}), '--yes'], { env: noAgent });
      expect(r.code, r.stderr).to.equal(3);
      expect(r.stderr).to.contain(`lab-1 (127.0.0.1:${fleet.sshd.port}): identity file ${locked} is passphrase-protected and no passphrase is available`)
        .and.contain('ssh.identity_passphrase_env').and.contain('ssh-add');
    });

    it('a wrong passphrase in the variable: unreachable (exit 3), naming the variable, not its value', async () => {
      const wrong = `wrong ${randomBytes(6).toString('hex')}`;
      const r = await runCli(['apply', await playbook({ identity_passphrase_env: PASSPHRASE_ENV }), '--yes'], { env: { ...noAgent, [PASSPHRASE_ENV]: wrong } });
      expect(r.code, r.stderr).to.equal(3);
      expect(r.stderr).to.contain(`the passphrase in $${PASSPHRASE_ENV} does not unlock identity file ${locked}`);
      expect(r.stdout + r.stderr).not.to.contain(wrong);
    });

    it('on a terminal: asks once, without echoing what is typed', async () => {
      const pb = await playbook({});
      // `script` gives the CLI a real pseudo-terminal; its output is what the operator would see
      const child = spawn('script', ['-q', '-e', '-c', `${process.execPath} ${CLI} apply ${pb} --yes`, '/dev/null'], {
        env: { ...process.env, ...noAgent, CI: '1' }, stdio: ['pipe', 'pipe', 'pipe'],
      });
      let screen = '';
      child.stdout.on('data', (d) => (screen += d));
      child.stderr.on('data', (d) => (screen += d));
      const exited = new Promise<number | null>((r) => child.once('close', r));
      try {
        await eventually('the passphrase prompt', () => screen.includes(`Enter passphrase for key '${locked}': `), 30_000);
        child.stdin.write(`${passphrase}\r`);
        const code = await exited;
        expect(code, screen).to.equal(0);
        expect(screen.match(/Enter passphrase/g), 'asked once').to.have.length(1);
        expect(screen).not.to.contain(passphrase);
      } finally {
        if (child.exitCode === null && child.pid) child.kill('SIGKILL');
      }
    });
  });
});
