import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readlink, rename, copyFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../lab/free-port.js';
import { runLoad } from '../../lab/load.js';
import { ensureBuilds, NEW_VERSION, OLD_VERSION, type Build } from '../../lab/nginx-builds.js';
import { startNginxHost, type NginxHost } from '../../lab/nginx-host.js';
import { childrenOf, processState, sleep } from '../../lab/processes.js';

const sha256File = async (p: string) => createHash('sha256').update(await readFile(p)).digest('hex');
const gone = async (pids: number[]) => (await Promise.all(pids.map(processState))).every((s) => s === null || s === 'Z');

async function until<T>(what: string, f: () => Promise<T | null | false>, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('lab', function () {
  this.timeout(120_000);
  let builds: { old: Build; new: Build };
  let dir: string;
  const hosts: NginxHost[] = [];

  before(async () => {
    builds = await ensureBuilds(); // downloads once; fails (never skips) naming what is missing
    dir = await mkdtemp(join(tmpdir(), 'hotswap-lab-'));
  });
  after(async () => {
    for (const h of hosts) await h.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('ensureBuilds gives the two Debian builds, distinct and verified', () => {
    expect(builds.old.version).to.equal(OLD_VERSION);
    // NEW_VERSION, or the newest bookworm build apt offers once NEW_VERSION left the sources
    expect(builds.new.version).to.match(/^1\.22\.1-9\+deb12u[0-9]+$/);
    expect(execFileSync('dpkg', ['--compare-versions', builds.new.version, 'gt', OLD_VERSION]).length).to.equal(0);
    if (builds.new.version !== NEW_VERSION) expect(execFileSync('dpkg', ['--compare-versions', builds.new.version, 'gt', NEW_VERSION]).length).to.equal(0);
    expect(builds.old.sha256).to.match(/^[0-9a-f]{64}$/).and.not.equal(builds.new.sha256);
  });

  it('ensureBuilds names the missing command instead of failing obscurely', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const err = await ensureBuilds(join(dir, 'empty-cache')).catch((e: Error) => e);
      expect((err as Error).message).to.match(/^apt-get is missing/);
    } finally {
      process.env.PATH = path;
    }
  });

  it('starts an nginx host on the old build, serves /healthz, and stop() leaves no process', async () => {
    const port = await freePort();
    const h = await startNginxHost({ root: join(dir, 'old'), binary: builds.old.path, port });
    hosts.push(h);
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).to.equal(200);
    expect(await res.text()).to.equal('ok\n');
    const master = (await h.masterPid())!;
    expect(await sha256File(`/proc/${master}/exe`)).to.equal(builds.old.sha256);
    // its own working directory, as systemd gives it: never the caller's (a clone in a 0700 home)
    expect(await readlink(`/proc/${master}/cwd`)).to.equal('/');
    const pids = [master, ...(await childrenOf(master))];
    expect(pids).to.have.length(3); // master + 2 workers

    await h.stop();
    expect(await gone(pids), `still alive: ${pids}`).to.equal(true);
    expect(await h.masterPid()).to.equal(null);
    expect(await fetch(`http://127.0.0.1:${port}/healthz`).then(() => 'answered', () => 'refused')).to.equal('refused');
  });

  it('hot-upgrades a lab host with USR2, WINCH, QUIT without failing a request', async () => {
    const port = await freePort();
    const h = await startNginxHost({ root: join(dir, 'upgrade'), binary: builds.old.path, port });
    hosts.push(h);
    const load = runLoad({ url: `http://127.0.0.1:${port}/`, concurrency: 8, durationMs: 10_000, maxRequests: 1e6 });
    const old = (await h.masterPid())!;
    await copyFile(builds.new.path, `${h.binaryPath}.new`);
    await rename(`${h.binaryPath}.new`, h.binaryPath);

    process.kill(old, 'SIGUSR2');
    const fresh = await until('the new master', async () => { const p = await h.masterPid(); return p !== old && p; });
    expect((await readFile(`${h.pidFile}.oldbin`, 'utf8')).trim()).to.equal(String(old));
    expect(await childrenOf(old)).to.include(fresh); // the new master is the old one's child
    process.kill(old, 'SIGWINCH');
    await until('old workers to exit', async () => (await childrenOf(old)).every((p) => p === fresh));
    process.kill(old, 'SIGQUIT');
    await until('the old master to exit', async () => (await gone([old])) && !(await readFile(`${h.pidFile}.oldbin`).catch(() => null)));

    load.controller.abort();
    const result = await load.done;
    expect(await sha256File(`/proc/${fresh}/exe`)).to.equal(builds.new.sha256);
    expect(result.ok).to.be.above(0);
    expect(result.failed, JSON.stringify(result.errors)).to.equal(0);
  });

  it('runLoad counts refused connections as failures and stops by itself', async () => {
    const port = await freePort();
    const started = Date.now();
    const r = await runLoad({ url: `http://127.0.0.1:${port}/`, concurrency: 2, durationMs: 200 }).done;
    expect(Date.now() - started).to.be.below(2_000);
    expect(r.ok).to.equal(0);
    expect(r.failed).to.be.above(0).and.equal(r.errors.ECONNREFUSED);
  });
});
