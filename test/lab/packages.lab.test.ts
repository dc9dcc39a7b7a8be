import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../../lab/processes.js';
import { startSystemdHost, type SystemdHost } from '../../lab/systemd-host.js';
import { repoRoot } from '../../lab/nginx-builds.js';
import { runCli } from '../cli/run-cli.js';

// Package ownership and dynamic modules on a real Debian 12 host (systemd lab,
// Debian's packaged nginx 1.22.1-9+deb12u9 whose /usr/sbin/nginx is the lab's
// old build, the package's own file): what plan says, nginx.package: divert
// against a real `dpkg -i` of the package, backups under /var/backups/hotswap
// pruned after a rollback, and Debian's stream module upgraded and rolled back
// with the binary.

async function sh(h: SystemdHost, argv: string[]): Promise<string> {
  const r = await h.ssh(argv);
  if (r.code !== 0) throw new Error(`in the container: ${argv.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}
const sha = async (h: SystemdHost, path: string) => (await sh(h, ['sha256sum', path])).split(' ')[0];
const master = async (h: SystemdHost) => Number((await sh(h, ['cat', '/run/nginx.pid'])).trim());
const ls = async (h: SystemdHost, dir: string) => (await h.ssh(['ls', '-1', dir])).stdout.split('\n').filter(Boolean);
const healthz = (h: SystemdHost) => fetch(`http://127.0.0.1:${h.httpPort}/healthz`).then((r) => r.status, () => 0);
const fileSha = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

/** The master in the pid file runs `want` and has workers (the upgrade settles within a second). */
async function serving(h: SystemdHost, want: string): Promise<number> {
  for (let i = 0; ; i++) {
    const m = await master(h);
    const runs = await sha(h, `/proc/${m}/exe`).catch(() => '');
    if (runs === want) return m;
    if (i >= 30) throw new Error(`the master ${m} runs sha256 ${runs}, not ${want}`);
    await sleep(100);
  }
}

function playbook(h: SystemdHost, o: { package?: string; modules?: string; keep?: number } = {}): string {
  return `version: 1
name: packages lab
vars:
  build: ${JSON.stringify(h.builds.new.path)}
  http_port: ${h.httpPort}
hosts:
  - { name: ${h.name}, address: 127.0.0.1, port: ${h.sshPort}, user: root }
ssh:
  identity_file: ${JSON.stringify(h.identityFile)}
  known_hosts: ${JSON.stringify(h.knownHostsFile)}
  host_key_checking: strict
nginx:
  prefix: /usr/share/nginx
  binary: /usr/sbin/nginx
  pid_file: /run/nginx.pid
  conf: /etc/nginx/nginx.conf
  error_log: /var/log/nginx/error.log
${o.package ? `  package: ${o.package}\n` : ''}steps:
  - backup: { keep: ${o.keep ?? 3} }
  - copy-binary:
      src: "{{ build }}"
${o.modules ? `      modules: [${JSON.stringify(o.modules)}]\n` : ''}  - signal: USR2
  - wait-for-workers: { until: new-master-ready, timeout: 10s }
  - signal: WINCH
  - wait-for-workers: { until: old-workers-exited, timeout: 30s }
  - verify:
      running_binary: new
      http: [{ url: "http://127.0.0.1:{{ http_port }}/healthz", status: 200, contains: ok }]
  - signal: QUIT
  - wait-for-workers: { until: old-master-exited, timeout: 30s }
`;
}

describe('packages lab: dpkg ownership, diversion, backups and modules on Debian 12', function () {
  this.timeout(600_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hotswap-packages-'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('nginx.package: divert, then a reinstall of the package, then rollback', () => {
    let h: SystemdHost | undefined;
    before(async () => {
      h = await startSystemdHost({ dir: join(dir, 'divert') });
    });
    after(async () => {
      await h?.stop();
    });

    it('plan says dpkg owns /usr/sbin/nginx, warns about the next package upgrade, and backs up under /var/backups/hotswap', async () => {
      const host = h!;
      const file = join(dir, 'keep.yaml');
      await writeFile(file, playbook(host));
      const r = await runCli(['plan', file], { timeoutMs: 120_000 });
      const out = `${r.stdout}\n${r.stderr}`;
      expect(r.code, out).to.equal(0);
      expect(out).to.include('/usr/sbin/nginx belongs to nginx 1.22.1-9+deb12u9 (dpkg): the next package upgrade replaces the build hotswap installs');
      expect(out).to.include('/var/backups/hotswap/usr/sbin/nginx.');
      expect(await ls(host, '/var/backups'), 'a plan creates nothing').not.to.include('hotswap');
    });

    it('apply diverts: dpkg --verify is clean, the backup is in /var/backups/hotswap, none in /usr/sbin', async () => {
      const host = h!;
      const file = join(dir, 'divert.yaml');
      await writeFile(file, playbook(host, { package: 'divert', keep: 1 }));
      const r = await runCli(['apply', file, '--yes'], { timeoutMs: 180_000 });
      expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
      await serving(host, host.builds.new.sha256);
      expect(await sha(host, '/usr/sbin/nginx')).to.equal(host.builds.new.sha256);
      expect(await sha(host, '/usr/sbin/nginx.distrib')).to.equal(host.builds.old.sha256);
      expect((await sh(host, ['dpkg-divert', '--list', '/usr/sbin/nginx'])).trim()).to.equal('local diversion of /usr/sbin/nginx to /usr/sbin/nginx.distrib');
      expect((await sh(host, ['dpkg', '--verify', 'nginx'])).trim(), 'dpkg --verify nginx').to.equal('');
      expect((await ls(host, '/usr/sbin')).filter((f) => f.endsWith('.bak'))).to.deep.equal([]);
      const baks = await ls(host, '/var/backups/hotswap/usr/sbin');
      expect(baks).to.have.length(1);
      expect(await sha(host, `/var/backups/hotswap/usr/sbin/${baks[0]}`)).to.equal(host.builds.old.sha256);
    });

    it('dpkg -i of the package leaves hotswap\'s build in place; its postinst hot upgrade re-execs that build', async () => {
      const host = h!;
      const deb = `nginx_${host.builds.old.version}_amd64.deb`;
      await copyFile(join(repoRoot(), '.lab', 'builds', deb), join(host.root, 'root', deb));
      const r = await host.ssh(['dpkg', '-i', `/root/${deb}`], 120_000);
      expect(r.code, r.stderr).to.equal(0);
      expect(await sha(host, '/usr/sbin/nginx')).to.equal(host.builds.new.sha256);
      expect(await sha(host, '/usr/sbin/nginx.distrib')).to.equal(host.builds.old.sha256);
      await serving(host, host.builds.new.sha256);
      expect((await sh(host, ['dpkg', '--verify', 'nginx'])).trim()).to.equal('');
      expect(await healthz(host)).to.equal(200);
    });

    it('rollback restores the old build, removes the diversion it added, and prunes the backups to keep', async () => {
      const host = h!;
      // older hotswap backups than keep (1) allows: the rollback prunes them, never the one it uses
      for (const stamp of ['20200101T000000Z', '20200102T000000Z']) await sh(host, ['cp', '/opt/hotswap-lab/nginx-old', `/var/backups/hotswap/usr/sbin/nginx.${stamp}.bak`]);
      const used = (await ls(host, '/var/backups/hotswap/usr/sbin')).filter((f) => !f.startsWith('nginx.2020'));
      const r = await runCli(['rollback', join(dir, 'divert.yaml'), '--yes'], { timeoutMs: 180_000 });
      expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
      await serving(host, host.builds.old.sha256);
      expect(await sha(host, '/usr/sbin/nginx')).to.equal(host.builds.old.sha256);
      expect((await sh(host, ['dpkg-divert', '--list', '/usr/sbin/nginx'])).trim(), 'no diversion left').to.equal('');
      expect((await ls(host, '/usr/sbin')).filter((f) => f.startsWith('nginx'))).to.deep.equal(['nginx']);
      expect((await sh(host, ['dpkg', '--verify', 'nginx'])).trim()).to.equal('');
      expect(await ls(host, '/var/backups/hotswap/usr/sbin'), 'pruned to keep: 1, the used backup kept').to.deep.equal(used);
      expect(await healthz(host)).to.equal(200);
    });
  });

  describe('a build that loads Debian\'s stream module', () => {
    let h: SystemdHost | undefined;
    const MOD = '/usr/lib/nginx/modules/ngx_stream_module.so';
    before(async () => {
      h = await startSystemdHost({ dir: join(dir, 'modules') });
      // enabled the Debian way (modules-available + a modules-enabled link), the old build's module
      await sh(h, ['cp', '/opt/hotswap-lab/modules/old/ngx_stream_module.so', MOD]);
      await sh(h, ['sh', '-c', 'echo "load_module modules/ngx_stream_module.so;" > /usr/share/nginx/modules-available/mod-stream.conf']);
      await sh(h, ['ln', '-s', '/usr/share/nginx/modules-available/mod-stream.conf', '/etc/nginx/modules-enabled/50-mod-stream.conf']);
      await sh(h, ['systemctl', 'restart', 'nginx.service']);
    });
    after(async () => {
      await h?.stop();
    });

    it('apply ships the module with the binary: the new master maps the new module; rollback brings both back', async () => {
      const host = h!;
      const [oldMod, newMod] = [await fileSha(host.modules.old.path), await fileSha(host.modules.new.path)];
      expect(await sha(host, MOD)).to.equal(oldMod);
      const file = join(dir, 'modules.yaml');
      await writeFile(file, playbook(host, { modules: host.modules.new.path }));
      const plan = await runCli(['plan', file], { timeoutMs: 120_000 });
      expect(plan.code, `${plan.stdout}\n${plan.stderr}`).to.equal(0);
      expect(plan.stdout).to.include(`rename /usr/lib/nginx/modules/.ngx_stream_module.so.hotswap-`);
      expect(plan.stdout).to.include(`restore ${MOD} from ${MOD}.`);

      const r = await runCli(['apply', file, '--yes'], { timeoutMs: 180_000 });
      expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
      const m = await serving(host, host.builds.new.sha256);
      expect(await sha(host, MOD)).to.equal(newMod);
      const maps = await sh(host, ['cat', `/proc/${m}/maps`]);
      expect(maps).to.include(MOD);
      expect(maps).not.to.include(`${MOD} (deleted)`);
      expect((await ls(host, '/etc/nginx')).filter((f) => f.includes('hotswap')), 'the staged test config is removed').to.deep.equal([]);
      expect((await ls(host, '/usr/lib/nginx/modules')).filter((f) => f.includes('hotswap'))).to.deep.equal([]);
      expect(await healthz(host)).to.equal(200);

      const back = await runCli(['rollback', file, '--yes'], { timeoutMs: 180_000 });
      expect(back.code, `${back.stdout}\n${back.stderr}`).to.equal(0);
      const m2 = await serving(host, host.builds.old.sha256);
      expect(await sha(host, MOD)).to.equal(oldMod);
      const maps2 = await sh(host, ['cat', `/proc/${m2}/maps`]);
      expect(maps2).to.include(MOD);
      expect(maps2).not.to.include(`${MOD} (deleted)`);
      expect(maps2).not.to.include('/usr/sbin/nginx (deleted)');
      expect(await healthz(host)).to.equal(200);
    });

    it('a module the new build cannot load is refused by the staged nginx -t before anything changes', async () => {
      const host = h!;
      const bad = join(dir, 'ngx_stream_module.so');
      await copyFile('/etc/hostname', bad).catch(() => writeFile(bad, 'not a module\n'));
      const file = join(dir, 'bad-module.yaml');
      await writeFile(file, playbook(host, { modules: bad }));
      const before = await master(host);
      const modBefore = await sha(host, MOD);
      const r = await runCli(['apply', file, '--yes'], { timeoutMs: 180_000 });
      const out = `${r.stdout}\n${r.stderr}`;
      expect(r.code, out).to.equal(4);
      expect(out).to.match(/nginx -t[\s\S]*with the staged modules/);
      expect(await master(host)).to.equal(before);
      expect(await sha(host, MOD)).to.equal(modBefore);
      expect(await sha(host, '/usr/sbin/nginx')).to.equal(host.builds.old.sha256);
      expect((await ls(host, '/etc/nginx')).filter((f) => f.includes('hotswap'))).to.deep.equal([]);
      expect((await ls(host, '/usr/lib/nginx/modules')).filter((f) => f.includes('hotswap'))).to.deep.equal([]);
    });
  });
});
