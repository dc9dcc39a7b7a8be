// Package ownership and dynamic modules as actions: real captured data in
// (dpkg output and Debian's config, maps and realpaths from the systemd lab:
// test/fixtures/packages, test/fixtures/modules, test/fixtures/layout), the
// actions the steps yield out. The host-side readers run against a transport
// that replays the captured commands and refuses anything else.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseFacts, type HostFacts } from '../../src/nginx/facts.js';
import type { Step } from '../../src/playbook/schema.js';
import type { ResolvedHost } from '../../src/playbook/resolved.js';
import { Events, type RunEvent } from '../../src/run/events.js';
import { HostRun, type UpgradeState } from '../../src/run/host-run.js';
import type { Action } from '../../src/run/action.js';
import { stepActions } from '../../src/steps/index.js';
import { readOwnership } from '../../src/steps/package.js';
import { readModuleFacts, type ModuleFacts } from '../../src/steps/modules.js';
import { describeRollback, describeRollbackPaths, rollbackPlan } from '../../src/plan/rollback-plan.js';
import { parseDpkgSearch, type Ownership } from '../../src/nginx/package-owner.js';
import { NotRunError, settledQuietly, type ExecResult, type Transport } from '../../src/transport/transport.js';
import { fixture, NEW_SHA, OLD_SHA } from '../nginx/fixtures.js';

type Captured = { argv: string[]; code: number; stdout: string; stderr: string };
const fx = (dir: string, name: string) => readFileSync(new URL(`../fixtures/${dir}/${name}`, import.meta.url), 'utf8');
const captured = (name: string) => JSON.parse(fx('packages', name)) as Captured;

/** Answers exactly the commands it was given (by argv), refuses any other. */
function replay(answers: Array<{ argv: string[]; r: ExecResult }>): Transport & { asked: string[][] } {
  const asked: string[][] = [];
  const exec = async (argv: readonly string[]): Promise<ExecResult> => {
    asked.push([...argv]);
    const a = answers.find((x) => JSON.stringify(x.argv) === JSON.stringify(argv));
    if (!a) throw new Error(`unexpected command: ${JSON.stringify(argv)}`);
    return a.r;
  };
  return {
    host: 'h',
    asked,
    exec,
    // in order, each only after the one before exited 0
    sequence: (commands) => {
      let before: Promise<ExecResult | null> = Promise.resolve({ code: 0, stdout: '', stderr: '' });
      return commands.map((c) => {
        const r = before.then((b) => (b?.code === 0 ? exec(c.argv) : Promise.reject(new NotRunError())));
        before = r.catch(() => null);
        return settledQuietly(r);
      });
    },
    put: () => Promise.reject(new Error('no upload here')),
    openTcp: () => Promise.reject(new Error('no connection here')),
    close: () => Promise.resolve(),
  };
}
const ok = (stdout: string, stderr = ''): ExecResult => ({ code: 0, stdout, stderr });

const BIN = '/usr/sbin/nginx';
const STREAM = '/usr/lib/nginx/modules/ngx_stream_module.so';
const MOD_SHA = 'a'.repeat(64);
const OLD_MOD_SHA = 'b'.repeat(64);

// the captured single master, seen as Debian's packaged nginx runs it (-g only)
function debianFacts(): HostFacts {
  const f = parseFacts(fixture('facts-single-master.txt'));
  f.master!.execPath = BIN;
  f.master!.args = { argv0: BIN, words: ['-g', 'daemon', 'on;', 'master_process', 'on;'], globals: 'daemon on; master_process on;', ambiguous: false };
  return f;
}

function hostRun(steps: Step[], opts: { package?: 'keep' | 'divert'; dryRun?: boolean; state?: Partial<UpgradeState> } = {}): { run: HostRun; events: RunEvent[] } {
  const facts = debianFacts();
  const host: ResolvedHost = {
    name: 'h', connection: 'ssh', ssh: { address: 'h' }, groups: [], steps, ...(opts.package ? { package: opts.package } : {}),
    nginx: { prefix: '/usr/share/nginx', binary: BIN, pid_file: '/run/nginx.pid', conf: '/etc/nginx/nginx.conf', error_log: '/var/log/nginx/error.log' },
  };
  const bytes = Buffer.alloc(0);
  const binaries = new Map([
    ['./new', { path: '/b/new', sha256: NEW_SHA, size: 1, bytes }],
    ['./ngx_stream_module.so', { path: '/b/ngx_stream_module.so', sha256: MOD_SHA, size: 1, bytes }],
  ]);
  const events = new Events();
  const seen: RunEvent[] = [];
  events.on((e) => seen.push(e));
  const run = new HostRun(host, replay([]), { dryRun: !!opts.dryRun, command: 'apply', events, runId: 'run1', stamp: '20261121T120000Z', binaries }, facts, {
    phase: 'clean', oldPid: facts.master!.pid, target: BIN, oldSha: OLD_SHA, newSha: NEW_SHA, errorLogSize: 0, ...opts.state,
  });
  return { run, events: seen };
}

type Row = { kind: string; description: string; phase?: string; args?: readonly string[] };

/** Walks a step, answering each action with `answer` (undefined: what a plan gets). */
function walk(run: HostRun, step: Step, answer: (a: Action) => unknown): { rows: Row[]; summary: string } {
  const gen = stepActions(run, step);
  const rows: Row[] = [];
  let next = gen.next();
  while (!next.done) {
    const a = next.value;
    rows.push({ kind: a.kind, description: a.description, phase: a.phase, args: a.command?.args });
    const got = answer(a);
    next = gen.next(got === undefined ? a.planned : got);
  }
  return { rows, summary: next.value };
}

const nginxOwner = (): Ownership => ({ ...parseDpkgSearch(BIN, captured('dpkg-S-usr-sbin-nginx.json'))!, version: '1.22.1-9+deb12u9' });
const moduleOwner = (): Ownership => ({ path: STREAM, manager: 'dpkg', packages: ['libnginx-mod-stream'] });
const ownerAnswer = (a: Action) => (a.description.startsWith(`read which package owns ${BIN}`) ? nginxOwner() : a.description.startsWith(`read which package owns ${STREAM}`) ? moduleOwner() : undefined);

describe('package ownership, read on the host', () => {
  it('dpkg -S then dpkg-query, as captured on Debian 12: the package and its version', async () => {
    const s = captured('dpkg-S-usr-sbin-nginx.json');
    const q = captured('dpkg-query-nginx.json');
    const t = replay([
      { argv: ['dpkg', '-S', '--', BIN], r: s },
      { argv: ['dpkg-query', '-W', '-f', '${binary:Package}\\t${Version}\\t${db:Status-Abbrev}\\n', '--', 'nginx'], r: q },
    ]);
    expect(await readOwnership(t, BIN)).to.deep.equal({ path: BIN, manager: 'dpkg', packages: ['nginx'], version: '1.22.1-9+deb12u9' });
  });

  it('a binary under /usr/local, /tmp, /home, /root or /srv is not owned, and dpkg is not asked', async () => {
    for (const p of ['/usr/local/nginx/sbin/nginx', '/tmp/lab/sbin/nginx', '/home/ops/nginx/sbin/nginx', '/srv/nginx/sbin/nginx']) {
      const t = replay([]);
      expect(await readOwnership(t, p), p).to.equal(null);
      expect(t.asked).to.deep.equal([]);
    }
  });

  it('a path no package has is not owned; a diverted one says where the package writes', async () => {
    const none = captured('dpkg-S-not-owned.json');
    expect(await readOwnership(replay([{ argv: ['dpkg', '-S', '--', '/opt/hotswap-lab/nginx-new'], r: none }]), '/opt/hotswap-lab/nginx-new')).to.equal(null);
    const div = captured('dpkg-S-diverted.json');
    const t = replay([
      { argv: ['dpkg', '-S', '--', BIN], r: div },
      { argv: ['dpkg-query', '-W', '-f', '${binary:Package}\\t${Version}\\t${db:Status-Abbrev}\\n', '--', 'nginx'], r: captured('dpkg-query-nginx.json') },
    ]);
    expect((await readOwnership(t, BIN))?.diversion).to.deep.equal({ by: 'local', to: `${BIN}.distrib` });
  });

  it('no dpkg (exit 127): rpm -qf answers; neither: not owned; a dpkg that fails otherwise is an error, never "not owned"', async () => {
    const notFound = { code: 127, stdout: '', stderr: 'sh: dpkg: not found' };
    const rpm = ok('nginx\t1:1.20.1-14.el9_2.1\tx86_64\n');
    const t = replay([{ argv: ['dpkg', '-S', '--', BIN], r: notFound }, { argv: ['rpm', '-qf', '--qf', '%{NAME}\\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\\t%{ARCH}\\n', '--', BIN], r: rpm }]);
    expect(await readOwnership(t, BIN)).to.deep.include({ manager: 'rpm', packages: ['nginx'], version: '1:1.20.1-14.el9_2.1' });
    const neither = replay([{ argv: ['dpkg', '-S', '--', BIN], r: notFound }, { argv: ['rpm', '-qf', '--qf', '%{NAME}\\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\\t%{ARCH}\\n', '--', BIN], r: notFound }]);
    expect(await readOwnership(neither, BIN)).to.equal(null);
    const locked = replay([{ argv: ['dpkg', '-S', '--', BIN], r: { code: 2, stdout: '', stderr: 'dpkg: error: dpkg database is locked' } }]);
    let err: Error | undefined;
    await readOwnership(locked, BIN).catch((e: Error) => (err = e));
    expect(err?.message).to.match(/database is locked/);
  });
});

describe('backup of a package-owned binary', () => {
  it('warns that the next package upgrade replaces the build, and backs up under /var/backups/hotswap', () => {
    const step: Step = { backup: { keep: 2 } };
    const { run, events } = hostRun([step]);
    const { rows, summary } = walk(run, step, ownerAnswer);
    expect(rows.map((r) => r.kind)).to.deep.equal(['check', 'change']);
    expect(rows[1]!.description).to.equal(`create /var/backups/hotswap/usr/sbin (mode 0700) if missing (${BIN} belongs to a package: backups go outside its directories), copy ${BIN} to /var/backups/hotswap/usr/sbin/nginx.20261121T120000Z.bak and verify its sha256 ${OLD_SHA.slice(0, 12)}; keep the newest 2 backups named nginx.<UTC time>.bak in /var/backups/hotswap/usr/sbin`);
    expect(rows[1]!.args).to.deep.equal([BIN, '/var/backups/hotswap/usr/sbin/nginx.20261121T120000Z.bak', OLD_SHA, '/var/backups/hotswap/usr/sbin', 'nginx', '2']);
    expect(summary).to.equal('/var/backups/hotswap/usr/sbin/nginx.20261121T120000Z.bak');
    const warnings = events.filter((e) => e.type === 'warning').map((e) => (e as { message: string }).message);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(/^\/usr\/sbin\/nginx belongs to nginx 1\.22\.1-9\+deb12u9 \(dpkg\): the next package upgrade replaces the build hotswap installs \(and its postinst hot-upgrades nginx to the package's build\).*nginx\.package: divert/);
  });

  it('a file no package owns is backed up beside it, as before; backup.dir moves every backup under it', () => {
    const plain = walk(hostRun([{ backup: {} }]).run, { backup: {} }, () => undefined);
    expect(plain.summary).to.equal(`${BIN}.20261121T120000Z.bak`);
    expect(plain.rows[1]!.description).not.to.match(/create/);
    const dir = walk(hostRun([{ backup: { dir: '/srv/bak/' } }]).run, { backup: { dir: '/srv/bak/' } }, () => undefined);
    expect(dir.summary).to.equal('/srv/bak/usr/sbin/nginx.20261121T120000Z.bak');
  });
});

describe('copy-binary with nginx.package: divert', () => {
  const step: Step = { 'copy-binary': { src: './new' } };
  const answer = (a: Action) => ownerAnswer(a) ?? (a.description.startsWith('upload') ? '/usr/sbin/.nginx.hotswap-run1' : a.kind === 'check' ? '' : undefined);

  it('diverts the package-owned binary before the rename, entering phase replaced; keep does not', () => {
    const { run } = hostRun([step], { package: 'divert' });
    const { rows } = walk(run, step, answer);
    expect(rows.map((r) => r.kind)).to.deep.equal(['check', 'check', 'check', 'change', 'change']);
    expect(rows[3]).to.deep.include({ phase: 'replaced', description: `divert ${BIN} from package nginx: copy it to ${BIN}.distrib (the package's file), then dpkg-divert --local --no-rename --divert ${BIN}.distrib --add ${BIN}` });
    expect(rows[4]!.description).to.match(/^rename \/usr\/sbin\/\.nginx\.hotswap-run1 over \/usr\/sbin\/nginx/);
    expect(run.state.diverted).to.deep.equal([BIN]);
    const keep = hostRun([step]).run;
    expect(walk(keep, step, answer).rows.map((r) => r.kind)).to.deep.equal(['check', 'check', 'change']);
    expect(keep.state.diverted).to.equal(undefined);
  });

  it('a path diverted already (by anyone) is left alone', () => {
    const { run } = hostRun([step], { package: 'divert' });
    const diverted = { ...nginxOwner(), diversion: { by: 'local', to: `${BIN}.distrib` } };
    const { rows } = walk(run, step, (a) => (a.description.startsWith('read which package') ? diverted : answer(a)));
    expect(rows.map((r) => r.kind)).to.deep.equal(['check', 'check', 'check', 'change']);
  });
});

describe('copy-binary with modules (Debian 12 with the stream module, as captured)', () => {
  const step: Step = { 'copy-binary': { src: './new', modules: ['./ngx_stream_module.so'] } };
  const files = () => {
    const r = JSON.parse(fx('modules', 'debian-stream-realpath.json')) as Captured;
    return r;
  };

  it('reads the loaded modules: nginx -T of the running image, its maps, the real paths', async () => {
    const { run } = hostRun([step]);
    const pid = run.facts.master!.pid;
    const rp = files();
    const t = replay([
      { argv: [`/proc/${pid}/exe`, '-V'], r: { code: 0, stdout: '', stderr: fx('layout', 'debian-nginx-V.txt') } },
      { argv: [`/proc/${pid}/exe`, '-g', 'daemon on; master_process on;', '-T'], r: ok(fx('modules', 'debian-stream-nginx-T.txt')) },
      { argv: ['cat', '--', `/proc/${pid}/maps`], r: ok(fx('modules', 'debian-stream-maps.txt')) },
      { argv: rp.argv, r: rp },
    ]);
    const f = await readModuleFacts(t, run);
    expect(f.conf).to.equal('/etc/nginx/nginx.conf');
    expect(f.prefix).to.equal('/usr/share/nginx/');
    expect(f.configured.map((c) => c.path)).to.deep.equal(['/usr/share/nginx/modules/ngx_http_echo_module.so', '/usr/share/nginx/modules/ngx_stream_module.so']);
    expect(f.realpaths['/usr/share/nginx/modules/ngx_stream_module.so']).to.equal(STREAM);
  });

  it('stages, checks, tests with the staged config, backs up, then renames the module before the binary', async () => {
    const { run } = hostRun([{ backup: {} }, step]);
    const pid = run.facts.master!.pid;
    const rp = files();
    const t = replay([
      { argv: [`/proc/${pid}/exe`, '-V'], r: { code: 0, stdout: '', stderr: fx('layout', 'debian-nginx-V.txt') } },
      { argv: [`/proc/${pid}/exe`, '-g', 'daemon on; master_process on;', '-T'], r: ok(fx('modules', 'debian-stream-nginx-T.txt')) },
      { argv: ['cat', '--', `/proc/${pid}/maps`], r: ok(fx('modules', 'debian-stream-maps.txt')) },
      { argv: rp.argv, r: rp },
    ]);
    const facts: ModuleFacts = await readModuleFacts(t, run);
    const staged = '/usr/lib/nginx/modules/.ngx_stream_module.so.hotswap-run1';
    const { rows, summary } = walk(run, step, (a) => {
      if (a.description.startsWith('read the modules')) return facts;
      if (a.description.startsWith('upload module')) return { sha256: MOD_SHA, oldSha: OLD_MOD_SHA };
      if (a.description.startsWith('write ')) return { code: 0, text: 'syntax is ok' };
      return ownerAnswer(a) ?? (a.description.startsWith('upload') ? '/usr/sbin/.nginx.hotswap-run1' : a.kind === 'check' ? '' : undefined);
    });
    expect(rows.map((r) => r.kind)).to.deep.equal(['check', 'check', 'check', 'check', 'check', 'check', 'change', 'change', 'change']);
    // the binary's own check runs no -t: the old modules need not load in the new build
    expect(rows[1]!.description).not.to.match(/-t/);
    expect(rows[3]!.description).to.equal(`upload module /b/ngx_stream_module.so (sha256 ${MOD_SHA.slice(0, 12)}) to ${staged}, give it the owner and mode of ${STREAM}, check its sha256, read the sha256 of ${STREAM}`);
    expect(rows[4]!.description).to.match(/^write \/etc\/nginx\/\.nginx\.conf\.hotswap-run1, a copy of the running config loading the staged modules \(\/etc\/nginx\/modules-enabled\/50-mod-stream\.conf:1\), run \/usr\/sbin\/\.nginx\.hotswap-run1 -c \/etc\/nginx\/\.nginx\.conf\.hotswap-run1 -g 'daemon on; master_process on;' -t, remove the copy$/);
    expect(rows[6]).to.deep.include({ kind: 'change', description: `create /var/backups/hotswap/usr/lib/nginx/modules (mode 0700) if missing, copy module ${STREAM} to /var/backups/hotswap/usr/lib/nginx/modules/ngx_stream_module.so.20261121T120000Z.bak and verify its sha256 ${OLD_MOD_SHA.slice(0, 12)}; keep the newest 3 backups named ngx_stream_module.so.<UTC time>.bak in /var/backups/hotswap/usr/lib/nginx/modules` });
    expect(rows[7]).to.deep.include({ phase: 'replaced', description: `rename ${staged} over ${STREAM} (sha256 ${OLD_MOD_SHA.slice(0, 12)} -> ${MOD_SHA.slice(0, 12)})` });
    expect(rows[8]!.description).to.match(/^rename \/usr\/sbin\/\.nginx\.hotswap-run1 over \/usr\/sbin\/nginx/);
    expect(run.state.modules).to.deep.equal([{ path: STREAM, backup: '/var/backups/hotswap/usr/lib/nginx/modules/ngx_stream_module.so.20261121T120000Z.bak', oldSha: OLD_MOD_SHA }]);
    expect(summary).to.equal(`${BIN} is now sha256 ${NEW_SHA.slice(0, 12)}, with 1 module: ${STREAM}`);
  });

  it('nginx -t failing with the staged module is a refusal before anything is renamed', () => {
    const { run } = hostRun([step]);
    const gen = stepActions(run, step);
    gen.next();
    gen.next('/usr/sbin/.nginx.hotswap-run1');
    gen.next('');
    // no facts (as offline): the module goes where the loaded one of its name is
    let a = gen.next(null).value as Action;
    expect(a.description).to.match(/^upload module/);
    a = gen.next({ sha256: MOD_SHA, oldSha: OLD_MOD_SHA }).value as Action;
    expect(a.description).to.match(/^write /);
    const bad = JSON.parse(fx('modules', 'staged-test-bad-module.json')) as Captured;
    expect(() => gen.next({ code: bad.code, text: bad.stderr })).to.throw(/the new build rejects the running config \(nginx -t\)[\s\S]*invalid ELF header[\s\S]*with the staged modules/).with.property('name', 'Refusal');
  });

  it('a module no load_module names is refused, naming the loaded ones', async () => {
    const { run } = hostRun([step]);
    const other: Step = { 'copy-binary': { src: './new', modules: ['./ngx_stream_module.so'] } };
    const gen = stepActions(run, other);
    gen.next();
    gen.next('/usr/sbin/.nginx.hotswap-run1');
    gen.next('');
    const echoOnly: ModuleFacts = { files: new Map(), conf: '/etc/nginx/nginx.conf', prefix: '/usr/share/nginx/', configured: [{ arg: 'modules/ngx_http_echo_module.so', path: '/usr/share/nginx/modules/ngx_http_echo_module.so', from: 'x:1' }], maps: [], realpaths: {} };
    expect(() => gen.next(echoOnly)).to.throw(/no load_module of the running config names a file ngx_stream_module\.so \(loaded: \/usr\/share\/nginx\/modules\/ngx_http_echo_module\.so\)/).with.property('name', 'Refusal');
  });
});

describe('the rollback plan with modules, diversions and pruning', () => {
  it('modules are restored right after the binary, then the diversions go; backups are pruned last', () => {
    expect(rollbackPlan('replaced', { modules: true, diverted: true, prune: true }).map((a) => a.kind)).to.deep.equal(['restore', 'restore-modules', 'undivert', 'confirm', 'prune']);
    expect(rollbackPlan('done', { modules: true }).map((a) => a.kind)).to.deep.equal(['restore', 'restore-modules', 'wait-old-gone', 'upgrade-back', 'confirm']);
    expect(rollbackPlan('clean', { modules: true, prune: true })).to.deep.equal([]);
  });

  it('in words, as plan shows them', () => {
    const v = { target: BIN, backup: '/var/backups/hotswap/usr/sbin/nginx.1.bak', pidFile: '/run/nginx.pid', modules: [{ path: STREAM, backup: '/var/backups/hotswap/m.bak' }], diverted: [BIN], keep: 3 };
    expect(describeRollback({ kind: 'restore-modules' }, v).description).to.equal(`restore ${STREAM} from /var/backups/hotswap/m.bak the same way (sha256 checked, hard link, rename)`);
    expect(describeRollback({ kind: 'undivert' }, v)).to.deep.include({ changes: true });
    expect(describeRollback({ kind: 'undivert' }, v).description).to.match(/dpkg-divert --local --no-rename --remove/);
    const paths = describeRollbackPaths(v);
    expect(paths[0]!.actions).to.have.length(5);
    expect(paths[0]!.actions[4]).to.match(/beyond the newest 3/);
  });
});
