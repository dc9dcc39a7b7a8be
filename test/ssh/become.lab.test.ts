import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../lab/free-port.js';
import { ensureLabUser, type LabUser } from '../../lab/lab-user.js';
import { ensureBuilds, type Build } from '../../lab/nginx-builds.js';
import { startNginxHost, type NginxHost } from '../../lab/nginx-host.js';
import { startSshd, type Sshd } from '../../lab/sshd.js';
import { clearPassword, ensureSudo, grantSudo, setPassword, type SudoGrant } from '../../lab/sudo.js';
import { becomeSudo, BecomeError } from '../../src/transport/become.js';
import { connectSsh } from '../../src/transport/ssh.js';
import { UnreachableError, type Transport } from '../../src/transport/transport.js';
import { runCli } from '../cli/run-cli.js';
import { hostState } from '../run/lab-helpers.js';
import { hostItem, openTempDir, writePlaybook } from './helpers.js';

const PASSWORD_ENV = 'HOTSWAP_TEST_SUDO_PASSWORD';
const uploadsLeft = async () => (await readdir('/tmp')).filter((f) => f.startsWith('hotswap-upload.'));

describe('ssh: become: sudo, as a non-root login, on a root-owned nginx', function () {
  this.timeout(120_000);
  let dir: string;
  let builds: { old: Build; new: Build };
  let sshd: Sshd;
  /** may run anything with sudo, no password */
  let nopasswd: LabUser;
  /** sudo asks for its password */
  let withPassword: LabUser;
  let password: string;
  const grants: SudoGrant[] = [];
  const hosts: NginxHost[] = [];
  let n = 0;

  before(async () => {
    ensureSudo();
    builds = await ensureBuilds();
    dir = await openTempDir('hotswap-become-');
    nopasswd = await ensureLabUser('hotswap-sudo');
    withPassword = await ensureLabUser('hotswap-sudopw');
    password = `pw ${randomBytes(9).toString('base64')}`;
    await setPassword(withPassword.name, password);
    grants.push(await grantSudo(nopasswd.name, { password: false }));
    grants.push(await grantSudo(withPassword.name, { password: true }));
    sshd = await startSshd({ dir: join(dir, 'sshd') });
  });
  after(async () => {
    for (const g of grants) await g.revoke();
    if (withPassword) await clearPassword(withPassword.name);
    for (const h of hosts) await h.stop().catch(() => undefined);
    await sshd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A root nginx on the old build whose binary is root:<login's group>, mode 0750. */
  async function rootNginx(): Promise<NginxHost> {
    const h = await startNginxHost({ root: join(dir, 'hosts', `h${++n}`), binary: builds.old.path, port: await freePort() });
    hosts.push(h);
    await chown(h.binaryPath, 0, nopasswd.gid);
    await chmod(h.binaryPath, 0o750);
    return h;
  }

  const playbook = async (h: NginxHost, user: LabUser, ssh: Record<string, string | undefined> = {}) =>
    writePlaybook(join(dir, `pb-${++n}.yaml`), {
      build: builds.new.path,
      hosts: [hostItem('root-nginx', h, { address: '127.0.0.1', port: sshd.port, user: user.name })],
      ssh: { identity_file: sshd.identityFile, known_hosts: sshd.knownHostsFile, config_file: '/dev/null', become: 'sudo', ...ssh },
    });

  it('upgrades nginx running as root, keeping the binary\'s owner, group and mode, leaving no upload behind', async () => {
    const h = await rootNginx();
    const uploads = await uploadsLeft();
    const r = await runCli(['apply', await playbook(h, nopasswd), '--yes']);
    expect(r.code, r.stderr).to.equal(0);
    const s = hostState(h);
    expect(s.exeSha).to.equal(builds.new.sha256);
    expect(s.oldbin).to.equal(false);
    expect(s.backups).to.have.length(1);
    const st = await stat(h.binaryPath);
    expect({ uid: st.uid, gid: st.gid, mode: (st.mode & 0o7777).toString(8) }).to.deep.equal({ uid: 0, gid: nopasswd.gid, mode: '750' });
    const backup = await stat(join(h.binaryPath, '..', s.backups[0]!));
    expect({ uid: backup.uid, mode: (backup.mode & 0o7777).toString(8) }).to.deep.equal({ uid: 0, mode: '750' });
    expect(await uploadsLeft()).to.deep.equal(uploads);
  });

  it('control: the same login without become cannot touch it (and touches nothing)', async () => {
    const h = await rootNginx();
    const before = hostState(h);
    const r = await runCli(['apply', await playbook(h, nopasswd, { become: undefined }), '--yes']);
    expect(r.code, r.stderr).not.to.equal(0);
    const after = hostState(h);
    expect([after.pid, after.fileSha]).to.deep.equal([before.pid, before.fileSha]);
  });

  it('sudo wanting a password, none given: unreachable (exit 3) with a clear error, nothing touched', async () => {
    const h = await rootNginx();
    const before = hostState(h);
    const r = await runCli(['apply', await playbook(h, withPassword), '--yes']);
    expect(r.code, r.stderr).to.equal(3);
    expect(r.stderr).to.contain('root-nginx: sudo: a password is required (become: sudo runs sudo -n)').and.contain('become_password_env');
    expect(hostState(h).fileSha).to.equal(before.fileSha);
  });

  it('the sudo password from become_password_env: upgrades, and the password is never printed', async () => {
    const h = await rootNginx();
    const r = await runCli(['apply', await playbook(h, withPassword, { become_password_env: PASSWORD_ENV }), '--yes'], { env: { [PASSWORD_ENV]: password } });
    expect(r.code, r.stderr).to.equal(0);
    expect(hostState(h).exeSha).to.equal(builds.new.sha256);
    expect(r.stdout + r.stderr).not.to.contain(password);
  });

  it('a wrong sudo password: unreachable (exit 3), naming the variable, not its value', async () => {
    const h = await rootNginx();
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const r = await runCli(['apply', await playbook(h, withPassword, { become_password_env: PASSWORD_ENV }), '--yes'], { env: { [PASSWORD_ENV]: wrong } });
    expect(r.code, r.stderr).to.equal(3);
    expect(r.stderr).to.contain(`root-nginx: sudo refused the password from $${PASSWORD_ENV}`);
    expect(r.stdout + r.stderr).not.to.contain(wrong);
  });

  describe('the transport decorator', () => {
    const open = async (user: LabUser, pw?: string): Promise<Transport> => {
      const inner = await connectSsh({
        host: 'edge-1', address: '127.0.0.1', port: sshd.port, user: user.name, identityFile: sshd.identityFile,
        connectTimeoutMs: 5_000, hostKeyChecking: 'strict', knownHostsFile: sshd.knownHostsFile,
      });
      return becomeSudo(inner, pw === undefined ? {} : { password: pw, passwordEnv: PASSWORD_ENV }).catch(async (e) => { await inner.close(); throw e; });
    };

    for (const mode of ['sudo -n', 'sudo -S with a password'] as const) {
      it(`${mode}: runs as root, passes stdin, stderr and exit codes through untouched`, async () => {
        const t = await open(mode === 'sudo -n' ? nopasswd : withPassword, mode === 'sudo -n' ? undefined : password);
        try {
          expect(await t.exec(['id', '-u'])).to.deep.equal({ stdout: '0\n', stderr: '', code: 0 });
          expect(await t.exec(['sh', '-c', 'cat; echo err >&2; exit 3'], { stdin: 'line 1\nline 2\n' })).to.deep.equal({ stdout: 'line 1\nline 2\n', stderr: 'err\n', code: 3 });
          expect((await t.exec(['cat'])).stdout, 'no stdin given: the password is not left over for the command').to.equal('');
          expect((await t.exec(['printf', '%s', "it's $(id) `x`"])).stdout).to.equal("it's $(id) `x`");
        } finally {
          await t.close();
        }
      });
    }

    it('put: uploads as the login user, lands root-owned with mode 0600 where only root can write', async () => {
      const t = await open(nopasswd);
      try {
        const rootOnly = join(dir, 'root-only');
        await mkdir(rootOnly, { mode: 0o700 });
        const local = randomBytes(200_000);
        await t.put(local, join(rootOnly, 'file'));
        const st = await stat(join(rootOnly, 'file'));
        expect({ uid: st.uid, gid: st.gid, mode: (st.mode & 0o777).toString(8) }).to.deep.equal({ uid: 0, gid: 0, mode: '600' });
        expect((await readFile(join(rootOnly, 'file'))).equals(local)).to.equal(true);
        const err = await t.put(local, '/nonexistent-dir/file').then(() => null, (e: Error) => e);
        expect(err?.message).to.match(/cannot move the upload to \/nonexistent-dir\/file/);
        expect(await uploadsLeft()).to.deep.equal([]);
      } finally {
        await t.close();
      }
    });

    it('a login that may not use sudo at all: a clear refusal at connect time', async () => {
      const lab = await ensureLabUser();
      const err = await open(lab).then(async (t) => { await t.close(); return null; }, (e: Error) => e);
      expect(err).to.be.instanceOf(UnreachableError);
      expect(err!.message).to.match(/^edge-1: (sudo: a password is required|become: sudo refused)/);
    });

    it('sudo refusing a command mid-run is a BecomeError, not the command\'s own exit status', async () => {
      const t = await open(nopasswd);
      try {
        await grants.shift()!.revoke(); // the rule goes away after connecting
        const err = await t.exec(['true']).then(() => null, (e: Error) => e);
        expect(err).to.be.instanceOf(BecomeError);
        expect(err!.message).to.match(/^edge-1: (sudo: a password is required|become: sudo refused)/);
      } finally {
        grants.unshift(await grantSudo(nopasswd.name, { password: false }));
        await t.close();
      }
    });
  });
});
