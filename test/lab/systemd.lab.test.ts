import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../../lab/processes.js';
import { startSystemdHost, type SystemdHost } from '../../lab/systemd-host.js';
import { ensureSystemdRoot, rootFs } from '../../lab/systemd-root.js';
import { CANONICAL_STEPS } from '../../lab/fleet.js';
import { parseSystemctlShow, systemctlShowArgv, type UnitFacts } from '../../src/nginx/systemd.js';
import { runCli } from '../cli/run-cli.js';

// Real systemd 252 (Debian 12 booted with systemd-nspawn), Debian's packaged
// nginx.service, the lab's two Debian builds. The first run builds the root
// with debootstrap (1.5–2 min), later runs boot in about a second.

async function sh(h: SystemdHost, argv: string[]): Promise<string> {
  const r = await h.ssh(argv);
  if (r.code !== 0) throw new Error(`in the container: ${argv.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}
const unit = async (h: SystemdHost): Promise<UnitFacts> => parseSystemctlShow(await sh(h, systemctlShowArgv('nginx.service')));
const pidFile = async (h: SystemdHost) => Number((await sh(h, ['cat', '/run/nginx.pid'])).trim());
const sha = async (h: SystemdHost, path: string) => (await sh(h, ['sha256sum', path])).split(' ')[0];
// beside the binary, or (a package-owned binary) under /var/backups/hotswap
const BACKUP_DIRS = ['/usr/sbin', '/var/backups/hotswap/usr/sbin'];
const backups = async (h: SystemdHost) => {
  const found: string[] = [];
  for (const d of BACKUP_DIRS) {
    const r = await h.ssh(['ls', '--', d]);
    if (r.code === 0) found.push(...r.stdout.split('\n').filter((f) => f.endsWith('.bak')).map((f) => `${d}/${f}`));
  }
  return found;
};
const healthz = (h: SystemdHost) => fetch(`http://127.0.0.1:${h.httpPort}/healthz`).then((r) => r.status, () => 0);

/** systemd adopts the new master ≤0.3 s after the old one exits: poll briefly. */
async function settled(h: SystemdHost, master: number): Promise<UnitFacts> {
  let u = await unit(h);
  for (let i = 0; i < 30 && !(u.mainPid === master && u.activeState === 'active'); i++) {
    await sleep(100);
    u = await unit(h);
  }
  return u;
}

/** A playbook in Debian's layout for one systemd lab host; `binaryOnly`: it names only the binary (the rest is read from the host). */
function playbook(h: SystemdHost, binaryOnly = false): string {
  return `version: 1
name: systemd lab upgrade
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
${binaryOnly ? '  binary: /usr/sbin/nginx' : `  prefix: /usr/share/nginx
  binary: /usr/sbin/nginx
  pid_file: /run/nginx.pid
  conf: /etc/nginx/nginx.conf
  error_log: /var/log/nginx/error.log`}
steps:
${CANONICAL_STEPS}`;
}

describe('systemd lab: Debian 12 nginx.service under a real systemd', function () {
  this.timeout(600_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hotswap-systemd-'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('the stock unit (Type=forking, PIDFile=/run/nginx.pid)', () => {
    let h: SystemdHost | undefined;
    before(async () => {
      h = await startSystemdHost({ dir: join(dir, 'stock') });
    });
    after(async () => {
      await h?.stop();
    });

    it('boots nginx.service on the old build, serving; both builds and both stream modules run in the container', async () => {
      const host = h!;
      const u = await unit(host);
      expect(u).to.include({ id: 'nginx.service', type: 'forking', pidFile: '/run/nginx.pid', activeState: 'active', subState: 'running' });
      expect(u.mainPid).to.equal(await pidFile(host));
      expect(await sha(host, `/proc/${u.mainPid}/exe`)).to.equal(host.builds.old.sha256);
      expect(await healthz(host)).to.equal(200);
      for (const k of ['old', 'new'] as const) {
        const v = await host.ssh([`/opt/hotswap-lab/nginx-${k}`, '-v']);
        expect(v.code, v.stderr).to.equal(0);
        expect(v.stderr).to.match(/nginx version: nginx\/1\.22\.1/);
        // each build loads its own Debian stream module (libraries and module ABI)
        const conf = `/tmp/stream-${k}.conf`;
        await sh(host, ['sh', '-c', 'printf "%s\\n" "load_module $1;" "pid /tmp/stream-$2.pid;" "events {}" "stream {}" > "$3"', 'sh',
          `/opt/hotswap-lab/modules/${k}/ngx_stream_module.so`, k, conf]);
        const t = await host.ssh([`/opt/hotswap-lab/nginx-${k}`, '-t', '-c', conf]);
        expect(t.code, t.stderr).to.equal(0);
      }
      // the overlay keeps the cached root clean
      const base = rootFs(await ensureSystemdRoot());
      expect(existsSync(join(base, 'etc', 'ssh', 'sshd_config.d', 'hotswap-lab.conf'))).to.equal(false);
    });

    it('hotswap apply: systemd ends with MainPID on the new master, active, serving', async () => {
      const host = h!;
      const before = await unit(host);
      const file = join(dir, 'stock.yaml');
      await writeFile(file, playbook(host));
      const r = await runCli(['apply', file, '--yes'], { timeoutMs: 180_000 });
      expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
      const master = await pidFile(host);
      expect(master).not.to.equal(before.mainPid);
      const after = await settled(host, master);
      expect(after.mainPid, 'systemd MainPID').to.equal(master);
      expect(after.activeState).to.equal('active');
      expect(await sha(host, `/proc/${master}/exe`)).to.equal(host.builds.new.sha256);
      expect(await healthz(host)).to.equal(200);
      expect(await backups(host)).to.have.length(1);
    });

    it('hotswap rollback: systemd ends with MainPID on a master running the old build, active, serving', async () => {
      const host = h!;
      const before = await unit(host);
      const file = join(dir, 'stock.yaml');
      const r = await runCli(['rollback', file, '--yes'], { timeoutMs: 180_000 });
      expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
      const master = await pidFile(host);
      const after = await settled(host, master);
      expect(master).not.to.equal(before.mainPid); // the new build's master exited: a second upgrade, back
      expect(after.mainPid, 'systemd MainPID').to.equal(master);
      expect(after.activeState).to.equal('active');
      expect(await sha(host, `/proc/${master}/exe`)).to.equal(host.builds.old.sha256);
      expect(await sha(host, '/usr/sbin/nginx')).to.equal(host.builds.old.sha256);
      expect(await healthz(host)).to.equal(200);
      // systemd can still drive it: reload goes to the tracked master
      expect((await host.ssh(['systemctl', 'reload', 'nginx.service'])).code).to.equal(0);
      expect((await unit(host)).mainPid).to.equal(master);
    });

    it('a playbook naming only the binary: plan shows where each path came from; apply ends with MainPID on the new master, active', async () => {
      const host = h!;
      const file = join(dir, 'binary-only.yaml');
      await writeFile(file, playbook(host, true));
      const v = await runCli(['validate', file]);
      expect(v.code, v.stderr).to.equal(0);
      expect(v.stdout).to.match(/read from each host at plan\/apply time/);
      const p = await runCli(['plan', file], { timeoutMs: 120_000 });
      expect(p.code, `${p.stdout}\n${p.stderr}`).to.equal(0);
      expect(p.stdout).to.match(/pid_file \/run\/nginx\.pid \(pid directive in \/etc\/nginx\/nginx\.conf:\d+\)/);
      expect(p.stdout).to.match(/conf \/etc\/nginx\/nginx\.conf \(nginx -V --conf-path\)/);
      expect(p.stdout).to.match(/error_log \/var\/log\/nginx\/error\.log \(error_log directive in \/etc\/nginx\/nginx\.conf:\d+\)/);
      const before = await unit(host);
      const r = await runCli(['apply', file, '--yes'], { timeoutMs: 180_000 });
      expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
      expect(`${r.stdout}\n${r.stderr}`).to.match(/systemd unit nginx\.service tracks it \(MainPID \d+, active/);
      const master = await pidFile(host);
      expect(master).not.to.equal(before.mainPid);
      const after = await unit(host); // checked by hotswap already: no settling here
      expect(after.mainPid, 'systemd MainPID').to.equal(master);
      expect(after.activeState).to.equal('active');
      expect(await sha(host, `/proc/${master}/exe`)).to.equal(host.builds.new.sha256);
      expect(await healthz(host)).to.equal(200);
    });

    it('status shows the unit, its MainPID and state, and that MainPID is the master', async () => {
      const host = h!;
      const r = await runCli(['status', join(dir, 'binary-only.yaml')], { timeoutMs: 60_000 });
      expect(r.code, r.stderr).to.equal(0);
      const master = await pidFile(host);
      expect(r.stdout).to.include(`systemd: nginx.service active (running), MainPID ${master} (the master)`);
    });

    it('nginx down under systemd: status says how to start the unit; rollback restores the old file and starts the unit (a cold start, said first), exit 1', async () => {
      const host = h!;
      await sh(host, ['systemctl', 'kill', '-s', 'KILL', 'nginx.service']);
      for (let i = 0; i < 50 && (await unit(host)).activeState === 'active'; i++) await sleep(100);
      expect(await healthz(host)).to.equal(0);
      const file = join(dir, 'binary-only.yaml');
      const s = await runCli(['status', file], { timeoutMs: 60_000 });
      expect(s.stdout).to.match(/NO nginx master running; systemd unit nginx\.service is (failed|inactive): start nginx with `systemctl start nginx\.service`/);
      const r = await runCli(['rollback', file, '--yes'], { timeoutMs: 180_000 });
      const out = `${r.stdout}\n${r.stderr}`;
      expect(r.code, out).to.equal(1);
      const said = r.stderr.indexOf('A cold start is the only way back to serving');
      expect(said, out).to.be.greaterThan(-1);
      expect(r.stderr.indexOf('failed:'), 'said before the result').to.be.greaterThan(said);
      expect(out).to.match(/connections .*dropped/);
      const master = await pidFile(host);
      const after = await unit(host);
      expect(after).to.include({ activeState: 'active', mainPid: master });
      expect(await sha(host, `/proc/${master}/exe`)).to.equal(host.builds.old.sha256);
      expect(await sha(host, '/usr/sbin/nginx')).to.equal(host.builds.old.sha256);
      expect(await healthz(host)).to.equal(200);
    });
  });

  // Without the pre-flight, hotswap upgraded and exited 0, systemd stopped the unit at
  // the QUIT and its ExecStop killed the new master (test/fixtures/systemd/reloaded-*).
  describe('a unit whose drop-in empties PIDFile (added while nginx runs, then daemon-reload)', () => {
    let h: SystemdHost | undefined;
    before(async () => {
      h = await startSystemdHost({ dir: join(dir, 'nopid') });
      await h.dropIn('nginx.service', '[Service]\nPIDFile=\n');
    });
    after(async () => {
      await h?.stop();
    });

    it('hotswap apply refuses (exit 4) before anything changes, naming the unit, the setting and the fix', async () => {
      const host = h!;
      const before = await unit(host);
      expect(before.pidFile).to.equal('');
      expect(before.activeState).to.equal('active');
      expect(before.mainPid).to.equal(await pidFile(host)); // still tracked: systemd loses it only at the QUIT
      const file = join(dir, 'nopid.yaml');
      await writeFile(file, playbook(host));
      const r = await runCli(['apply', file, '--yes'], { timeoutMs: 180_000 });
      const out = `${r.stdout}\n${r.stderr}`;
      const after = await unit(host);
      expect(after.activeState, `nginx.service after the run:\n${out}`).to.equal('active');
      expect(after.mainPid, 'the same master, still tracked').to.equal(before.mainPid);
      expect(await sha(host, '/usr/sbin/nginx'), 'the binary file is untouched').to.equal(host.builds.old.sha256);
      expect(await backups(host), 'no backup taken').to.deep.equal([]);
      expect(await healthz(host)).to.equal(200);
      expect(r.code, out).to.equal(4);
      expect(out).to.match(/nginx\.service/);
      expect(out).to.match(/PIDFile/);
      expect(out).to.match(/PIDFile=\/run\/nginx\.pid/); // the fix: the drop-in line to write
    });
  });
});

describe('systemd lab: a unit whose PIDFile names another file than nginx writes', function () {
  this.timeout(600_000);
  let dir: string;
  let h: SystemdHost | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hotswap-systemd-'));
    h = await startSystemdHost({ dir: join(dir, 'otherpid') });
    await h.dropIn('nginx.service', '[Service]\nPIDFile=/run/nginx-other.pid\n');
  });
  after(async () => {
    await h?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('hotswap apply (naming only the binary) refuses (exit 4) before anything changes: systemd would lose nginx at the QUIT', async () => {
    const host = h!;
    const before = await unit(host);
    expect(before.pidFile).to.equal('/run/nginx-other.pid');
    const file = join(dir, 'otherpid.yaml');
    await writeFile(file, playbook(host, true));
    const r = await runCli(['apply', file, '--yes'], { timeoutMs: 180_000 });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.code, out).to.equal(4);
    expect(out).to.match(/nginx\.service .*PIDFile=\/run\/nginx-other\.pid, but nginx writes its pid to \/run\/nginx\.pid/);
    expect(out).to.match(/PIDFile=\/run\/nginx\.pid/);
    const after = await unit(host);
    expect(after).to.include({ activeState: 'active', mainPid: before.mainPid });
    expect(await sha(host, '/usr/sbin/nginx')).to.equal(host.builds.old.sha256);
    expect(await backups(host)).to.deep.equal([]);
    expect(await healthz(host)).to.equal(200);
  });
});
