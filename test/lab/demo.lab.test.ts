import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { claimLab } from '../../lab/demo-lab.js';
import { hostOutcome, plain } from '../../lab/demo-outcome.js';
import { freePort } from '../../lab/free-port.js';
import { ensureLabUser, labUserExists, LAB_USER, removeLabUser } from '../../lab/lab-user.js';
import { ensureBuilds, repoRoot } from '../../lab/nginx-builds.js';
import { startNginxHost } from '../../lab/nginx-host.js';
import { isAlive, signal, waitGone } from '../../lab/processes.js';

const SHA = { old: '1889a003e9f5'.padEnd(64, '0'), new: '3bac05767a0a'.padEnd(64, '1') };

function needRoot(what: string): void {
  if (userInfo().uid !== 0) throw new Error(`${what} needs root (it creates users and the demo's lab): run the tests as root`);
}

/** Pids whose command line mentions `text` (the lab's nginx masters name their prefix, its sshd its config). */
function pidsMentioning(text: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid).filter((p) => {
    try { return readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(text); } catch { return false; }
  }).map(Number);
}

describe('demo: what it says about each host', () => {
  it('says upgraded only when hotswap changed the host and the new build really runs', () => {
    const o = hostOutcome('lab-1', { host: 'lab-1', result: 'changed', message: 'now running sha256 3bac05767a0a' }, SHA.new, SHA);
    expect(o).to.deep.equal({ upgraded: true, line: 'lab-1: upgraded, now runs 3bac05767a0a (the new build)' });
  });

  it('says NOT upgraded with the reason hotswap gave (the refusal of the issue) and what still runs', () => {
    const o = hostOutcome('lab-1', {
      host: 'lab-1', result: 'refused',
      message: "copy-binary: the new build rejects the running config (nginx -t): hotswap: 21: cd: can't cd to ~/hotswap",
    }, SHA.old, SHA);
    expect(o.upgraded).to.equal(false);
    expect(o.line).to.equal("lab-1: NOT upgraded: refused: copy-binary: the new build rejects the running config (nginx -t): hotswap: 21: cd: can't cd to ~/hotswap; it runs 1889a003e9f5 (the old build)");
  });

  it('does not believe a "changed" when the master runs another binary, and names a missing master or report', () => {
    expect(hostOutcome('lab-2', { host: 'lab-2', result: 'changed' }, SHA.old, SHA).line)
      .to.equal('lab-2: NOT upgraded: hotswap reported it changed, but the new build is not what runs; it runs 1889a003e9f5 (the old build)');
    expect(hostOutcome('lab-3', undefined, null, SHA, 'hotswap apply exited with code 2 and reported nothing for it').line)
      .to.equal('lab-3: NOT upgraded: hotswap apply exited with code 2 and reported nothing for it; no nginx master runs there');
    expect(hostOutcome('lab-3', { host: 'lab-3', result: 'ok' }, SHA.new, SHA).upgraded).to.equal(false);
  });

  it('prints host text as one inert line: control characters escaped, length bounded', () => {
    const line = hostOutcome('lab-1', { host: 'lab-1', result: 'refused', message: 'nginx -t:\n\x1b[2J\x1b]0;owned\x07\rlab-2: upgraded\x9b' }, SHA.old, SHA).line;
    expect(line).to.equal('lab-1: NOT upgraded: refused: nginx -t:\\n\\x1b[2J\\x1b]0;owned\\x07\\rlab-2: upgraded\\x9b; it runs 1889a003e9f5 (the old build)');
    expect(line).to.not.match(/[\x00-\x1f\x7f-\x9f]/);
    expect(plain('x'.repeat(10_000))).to.have.length.below(500).and.match(/\(9600 more characters\)$/);
  });
});

describe('demo: its folder, ports and user', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'hotswap-demo-claim-')); });
  after(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('refuses a taken port before touching anything, naming the port', async () => {
    const port = await freePort();
    const srv: Server = await new Promise((r) => { const s = createServer().listen(port, '127.0.0.1', () => r(s)); });
    try {
      const lab = join(dir, 'ports');
      const err = await claimLab(lab, [port]).catch((e: Error) => e);
      expect((err as Error).message).to.match(new RegExp(`^127\\.0\\.0\\.1 port ${port} already in use`));
      expect(existsSync(lab)).to.equal(false);
    } finally {
      await new Promise((r) => srv.close(r));
    }
  });

  it('refuses while another live demo holds the folder, and leaves that folder alone', async () => {
    const lab = join(dir, 'live');
    await mkdir(lab);
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', 'demo'], { stdio: 'ignore' });
    try {
      await writeFile(join(lab, 'demo.pid'), `${other.pid}\n`);
      const err = await claimLab(lab, []).catch((e: Error) => e);
      expect((err as Error).message).to.equal(`another demo (pid ${other.pid}) is running in ${lab}: wait for it to end, or stop it with kill ${other.pid}`);
      expect(readFileSync(join(lab, 'demo.pid'), 'utf8')).to.equal(`${other.pid}\n`);
    } finally {
      signal(other.pid!, 'SIGKILL');
    }
  });

  it('stops (by pid) and replaces what a killed demo left: its nginx master keeps running otherwise', async () => {
    const builds = await ensureBuilds();
    const lab = join(dir, 'stale');
    const h = await startNginxHost({ root: join(lab, 'hosts', 'lab-1'), binary: builds.old.path, port: await freePort() });
    const master = (await h.masterPid())!;
    try {
      await writeFile(join(lab, 'demo.pid'), '999999999\n'); // no such process: its demo is gone
      const said = await claimLab(lab, []);
      expect(said).to.deep.equal([`removed ${lab}, left by an earlier run (stopped its processes: nginx master ${master} (lab-1))`]);
      expect(await waitGone(master, 5_000)).to.equal(true);
      expect(readFileSync(join(lab, 'demo.pid'), 'utf8')).to.equal(`${process.pid}\n`);
    } finally {
      await h.stop().catch(() => undefined);
    }
  });

  it('removes a user it made, but not while a process still runs as it', async () => {
    needRoot('removing a lab user');
    const name = 'hotswap-demo-rm';
    const u = await ensureLabUser(name);
    const sleeper = spawn('sleep', ['60'], { uid: u.uid, gid: u.gid, stdio: 'ignore' });
    try {
      await new Promise((r) => sleeper.once('spawn', r));
      expect(await removeLabUser(name)).to.equal(`1 process(es) still run as ${name} (pids ${sleeper.pid})`);
      expect(await labUserExists(name)).to.equal(true);
    } finally {
      signal(sleeper.pid!, 'SIGKILL');
      await waitGone(sleeper.pid!, 5_000);
    }
    expect(await removeLabUser(name)).to.equal(null);
    expect(await labUserExists(name)).to.equal(false);
    expect(existsSync(`/var/lib/${name}`)).to.equal(false);
    expect(await removeLabUser(name)).to.equal(null); // already gone: nothing to do
  });
});

// Why: the first thing a new user runs. A clone in root's 0700 home broke it: the
// lab's nginx masters kept the clone as their cwd, which the lab user cannot enter.
describe('npm run demo from a 0700 folder', function () {
  const DEMO_MS = 90_000;
  this.timeout(DEMO_MS + 30_000);
  let dir: string;
  after(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('upgrades every host, says so host by host, exits 0 and leaves nothing behind', async () => {
    needRoot('the demo');
    const root = repoRoot();
    if (!existsSync(join(root, 'dist', 'lab', 'demo.js'))) throw new Error('dist/lab/demo.js is missing: run `npm run build` first');
    await ensureBuilds();
    // a clone-like copy: what `git clone` + `npm ci` + `npm run build` give, inside a private folder
    dir = await mkdtemp(join(tmpdir(), 'hotswap-demo-home-'));
    expect((await stat(dir)).mode & 0o777).to.equal(0o700);
    const clone = join(dir, 'hotswap');
    await mkdir(clone);
    await chmod(clone, 0o700);
    // .lab/builds: the nginx builds (a clone fetches them on its first run; the cache keeps this test offline)
    for (const f of ['package.json', 'dist', 'examples', join('.lab', 'builds')]) await cp(join(root, f), join(clone, f), { recursive: true, verbatimSymlinks: true });
    await symlink(join(root, 'node_modules'), join(clone, 'node_modules'));
    const userBefore = await labUserExists(LAB_USER);

    const child = spawn(process.execPath, [join(clone, 'dist', 'lab', 'demo.js')], { cwd: clone, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    const timer = setTimeout(() => signal(child.pid!, 'SIGTERM'), DEMO_MS); // the demo tears its lab down on TERM
    const code = await new Promise<number | null>((r) => child.once('close', r));
    clearTimeout(timer);

    const shown = `exit ${code}\n--- stdout\n${out}\n--- stderr\n${err.slice(-4000)}`;
    expect(code, shown).to.equal(0);
    for (const h of ['lab-1', 'lab-2', 'lab-3']) expect(out, shown).to.match(new RegExp(`^${h}: upgraded, now runs [0-9a-f]{12} \\(the new build\\)$`, 'm'));
    expect(out, shown).to.not.include('NOT upgraded');
    expect(out, shown).to.match(/failed requests: 0$/m);
    expect(out, shown).to.include('removed /tmp/hotswap-lab (the hosts, the ssh keys, the report)');
    expect(out.trim().split('\n').pop(), shown).to.equal('demo passed: 3 of 3 hosts upgraded to the new build, no request failed');

    // nothing left: no folder, no key, no process, the user as it was
    expect(existsSync('/tmp/hotswap-lab'), 'the lab folder').to.equal(false);
    expect(existsSync('/tmp/hotswap-lab/ssh/id_ed25519'), 'the private key').to.equal(false);
    expect(pidsMentioning('/tmp/hotswap-lab/'), 'processes of the lab').to.deep.equal([]);
    expect(await labUserExists(LAB_USER)).to.equal(userBefore);
    expect(out).to.include(userBefore ? `kept the user ${LAB_USER}: it existed before the demo` : `removed the user ${LAB_USER}`);
    for (const port of [22022, 28081, 28082, 28083]) {
      const free = await new Promise<boolean>((r) => { const s = createServer().once('error', () => r(false)).listen(port, '127.0.0.1', () => s.close(() => r(true))); });
      expect(free, `127.0.0.1:${port} is still taken`).to.equal(true);
    }
    expect(await isAlive(child.pid!)).to.equal(false);
  });
});
