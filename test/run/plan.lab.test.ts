import { expect } from 'chai';
import { chmodSync, copyFileSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { startLabFleet, type LabFleet, type LabHost } from '../../lab/fleet.js';
import { startNginxHost, type NginxHostOptions } from '../../lab/nginx-host.js';
import { freePort } from '../../lab/free-port.js';
import { runCli } from '../cli/run-cli.js';
import { labFleet } from './lab-helpers.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

/** Every file under the host's prefix (name, size, mtime, sha256) and every process below its masters. */
function snapshot(h: LabHost) {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const st = statSync(p);
        files.push(`${p} ${st.size} ${st.mtimeMs} ${st.mode} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
      }
    }
  };
  walk(h.root);
  const all = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((w) => w.length > 3 && !w[2].startsWith('Z'));
  // this host's masters (their title names its prefix) and their children
  const masters = new Set(all.filter((w) => w.join(' ').includes(`nginx: master process ${h.root}/`)).map((w) => w[0]));
  const ps = all.filter((w) => masters.has(w[0]) || masters.has(w[1])).map((w) => w.join(' ')).sort();
  return { files: files.sort(), ps, planDirs: readdirSync('/tmp').filter((f) => f.startsWith('hotswap-plan.')) };
}

const normalize = (s: string) =>
  s
    .replace(/\/tmp\/hotswap-plan\.\w+\/|[^ ]*\/(?=\.nginx\.hotswap-)/g, '<stage>/')
    .replace(/hotswap-\w+/g, 'hotswap-<run>')
    .replace(/\d{8}T\d{6}Z/g, '<time>')
    .replace(/ \(a private temp dir outside the nginx tree, removed after the checks\)/, '')
    .replace(/, give it the owner and mode of [^,\s]+/, '');

describe('hotswap plan on real nginx over SSH', function () {
  this.timeout(120_000);
  let fleet: LabFleet | undefined;
  const extra: { stop(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const h of extra.splice(0)) await h.stop().catch(() => undefined);
    await fleet?.stop();
    fleet = undefined;
  });

  /** A fleet whose one host is started with special options (argv0, daemon off, run as root). */
  async function fleetWith(opts: Partial<NginxHostOptions>): Promise<LabFleet> {
    const f = await startLabFleet({ dir: mkdtempSync(join(tmpdir(), 'hotswap-lab-')), hosts: 0 });
    const root = join(f.dir, 'hosts', 'lab-1');
    const h = await startNginxHost({ root, binary: f.builds.old.path, port: await freePort(), user: { uid: f.user.uid, gid: f.user.gid }, ...opts });
    extra.push(h);
    f.hosts.push({ ...h, name: 'lab-1' });
    return f;
  }

  it('changes nothing on the host: files, processes, no temp dir left', async () => {
    fleet = await labFleet(2);
    const before = fleet.hosts.map(snapshot);
    const r = await runCli(['plan', await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'))]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/lab-1 \(batch 1\): would upgrade/);
    expect(r.stdout).to.match(/would change +send USR2 to the old master \(pid \d+\)/);
    // the rollback per phase, as the executor would run it: the file restored first, by a hard link
    expect(r.stdout).to.match(/if a step fails, apply rolls back \(the file first, then the processes\):/);
    for (const phase of ['before USR2 \\(phase replaced\\)', 'before WINCH \\(phase usr2\\)', 'after WINCH \\(phase winch\\)', 'phases quit, done\\)']) {
      expect(r.stdout).to.match(new RegExp(`${phase}:\\n +1\\. restore \\S+/sbin/nginx from \\S+/sbin/nginx\\.\\d{8}T\\d{6}Z\\.bak: check its sha256 [0-9a-f]{12}, ln `));
    }
    expect(r.stdout).to.match(/after WINCH \(phase winch\):\n.*\n +2\. send HUP to the old master \(pid \d+\): it starts workers again/);
    expect(fleet.hosts.map(snapshot)).to.deep.equal(before);
  });

  it('lists the same actions as the apply that follows it', async () => {
    fleet = await labFleet(1);
    const file = await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'));
    const plan = await runCli(['plan', file, '--format', 'json']);
    expect(plan.code, plan.stderr).to.equal(0);
    const planned = JSON.parse(plan.stdout).hosts[0].steps.map((s: { actions: { description: string }[] }) => s.actions.map((a) => normalize(a.description)));
    const report = join(fleet.dir, 'report.json');
    const apply = await runCli(['apply', file, '--yes', '--report', report]);
    expect(apply.code, apply.stderr).to.equal(0);
    const applied = JSON.parse(readFileSync(report, 'utf8')).hosts[0].steps.map((s: { actions: { description: string }[] }) => s.actions.map((a) => normalize(a.description)));
    expect(applied).to.deep.equal(planned);
    expect(planned.flat()).to.have.length(13); // who owns the binary, backup; upload, check, rename; 3 signals, 3 waits; verify; the watch of the new master
  });

  it('prints a Markdown plan for a change ticket and a JSON document', async () => {
    fleet = await labFleet(1);
    const file = await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'));
    const md = await runCli(['plan', file, '--format', 'markdown']);
    expect(md.code, md.stderr).to.equal(0);
    expect(md.stdout).to.match(/^# Plan: lab upgrade/);
    expect(md.stdout).to.match(/\| 1 \| lab-1 \| would upgrade \| \d+ \|/);
    expect(md.stdout).to.include('**Rollback path** if a step fails:');
    const bad = await runCli(['plan', file, '--format', 'yaml']);
    expect(bad.code).to.equal(2);
  });

  it('plans offline without contacting any host, clearly labelled', async () => {
    fleet = await labFleet(1);
    const file = join(fleet.dir, 'fleet.yaml');
    writeFileSync(file, fleet.playbook().replace(`port: ${fleet.sshd.port}`, 'port: 1'));
    const r = await runCli(['plan', file, '--offline']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/OFFLINE: from the playbook alone; no host was contacted/);
    expect(r.stdout).to.match(/send USR2 to the old master \(pid from .*nginx\.pid before the upgrade\)/);
    // the same words as an online plan, and the same rollback per phase
    expect(r.stdout).to.match(/would change +rename \S+\/sbin\/\.nginx\.hotswap-<run> over \S+\/sbin\/nginx/);
    expect(r.stdout).to.match(/after WINCH \(phase winch\):\n +1\. restore \S+\/sbin\/nginx from \S+\/sbin\/nginx\.<UTC time>\.bak/);
    const online = await runCli(['plan', file]);
    expect(online.code).to.equal(3);
  });

  const refusals: [string, () => Promise<LabFleet>, (f: LabFleet) => Promise<void> | void, RegExp][] = [
    ['no master running', () => labFleet(1), async (f) => f.hosts[0].stop(), /pid file .* does not exist: nginx is not running/],
    ['a stale pid file', () => labFleet(1), (f) => {
      const h = f.hosts[0];
      const real = readFileSync(h.pidFile, 'utf8');
      writeFileSync(h.pidFile, `${process.pid}\n`);
      extra.push({ stop: async () => writeFileSync(h.pidFile, real) });
    }, /stale pid file: process \d+ is not an nginx master/],
    ['a master started as a bare "nginx"', () => fleetWith({ argv0: 'nginx' }), () => undefined, /started as "nginx" \(no slash\)/],
    ['argv[0] resolving to another file than the playbook\'s binary', () => fleetWith({}), async (f) => {
      // restart the host so that its argv[0] names a copy, not sbin/nginx
      const h = f.hosts[0];
      await h.stop();
      const copy = join(h.root, 'sbin', 'nginx-1.22');
      copyFileSync(h.binaryPath, copy);
      chmodSync(copy, 0o755);
      const again = await startNginxHost({ root: h.root, binary: f.builds.old.path, port: h.port, user: { uid: f.user.uid, gid: f.user.gid }, argv0: copy });
      extra.push(again);
    }, /resolves to .*nginx-1\.22, not the same file as .*sbin\/nginx/],
    ['nginx with daemon off', () => fleetWith({ daemon: false }), () => undefined, /not daemonized/],
    ['an upgrade already in progress', () => labFleet(1), async (f) => {
      const h = f.hosts[0];
      process.kill((await h.masterPid())!, 'SIGUSR2');
      for (let i = 0; i < 100 && !existsSync(`${h.pidFile}.oldbin`); i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
    }, /an upgrade is in progress/],
    ['no permission to signal the master (nginx runs as root, login as a plain user)', () => fleetWith({ user: undefined }), () => undefined, /may not signal master \d+/],
  ];
  for (const [what, make, arrange, reason] of refusals) {
    it(`refuses with exit 4: ${what}`, async () => {
      fleet = await make();
      await arrange(fleet);
      const r = await runCli(['plan', await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'))]);
      expect(r.code, r.stdout + r.stderr).to.equal(4);
      expect(r.stdout).to.match(/lab-1 \(batch 1\): REFUSED: /);
      expect(r.stdout).to.match(reason);
    });
  }

  it('refuses with exit 4 a new build whose nginx -t fails on the running config', async () => {
    fleet = await labFleet(1);
    const broken = join(fleet.dir, 'nginx-broken');
    writeFileSync(broken, '#!/bin/sh\necho "nginx: [emerg] unknown directive \\"foo\\"" >&2\nexit 1\n');
    chmodSync(broken, 0o755);
    const before = snapshot(fleet.hosts[0]);
    const r = await runCli(['plan', await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'), { build: broken })]);
    expect(r.code).to.equal(4);
    expect(r.stdout).to.match(/REFUSED: copy-binary: the new build rejects the running config \(nginx -t\): nginx: \[emerg\] unknown directive/);
    expect(snapshot(fleet.hosts[0])).to.deep.equal(before);
  });

  it('warns when the new build was configured differently', async () => {
    fleet = await labFleet(1);
    // a "build" that passes -t but reports other configure arguments
    const fake = join(fleet.dir, 'nginx-other-build');
    writeFileSync(fake, `#!/bin/sh\nfor a; do [ "$a" = -V ] && { echo "nginx version: nginx/1.22.1" >&2; echo "configure arguments: --prefix=/usr/share/nginx --conf-path=/etc/nginx/nginx.conf --with-threads --with-http_v3_module" >&2; exit 0; }; done\nexit 0\n`);
    chmodSync(fake, 0o755);
    const r = await runCli(['plan', await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'), { build: fake })]);
    expect(r.code, r.stdout).to.equal(0);
    expect(r.stdout).to.match(/warning: configure arguments differ: .*\+--with-http_v3_module/);
  });
});

