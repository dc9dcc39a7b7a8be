// The host scripts against real nginx: a whole hot upgrade old -> new driven only
// through gatherFacts / sendSignal / waitFor over a LocalTransport.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, chmod, copyFile, mkdtemp, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from '../../lab/free-port.js';
import { startNginxHost, type NginxHost } from '../../lab/nginx-host.js';
import { ensureBuilds } from '../../lab/nginx-builds.js';
import { waitGone } from '../../lab/processes.js';
import { gatherFacts, parseFacts, type HostFacts } from '../../src/nginx/facts.js';
import { script, scriptArgv } from '../../src/remote/scripts.js';
import { readSource } from '../../src/remote/sources.js';
import { sendSignal } from '../../src/nginx/signal.js';
import { parseWait, waitFor, type WaitResult } from '../../src/nginx/wait.js';
import { LocalTransport } from '../../src/transport/local.js';
import { runScript } from './local-nginx.js';
import { holdConnection } from '../../lab/load.js';

const FACTS_SCRIPT = script('facts');
const WAIT_SCRIPT = script('wait');

const sha256 = async (f: string) => createHash('sha256').update(await readFile(f)).digest('hex');

async function builds(): Promise<{ old: string; new: string }> {
  const old = process.env.NGINX_OLD ?? '/tmp/ngx/u9/usr/sbin/nginx';
  const neu = process.env.NGINX_NEW ?? '/tmp/ngx/u11/usr/sbin/nginx';
  if (existsSync(old) && existsSync(neu)) return { old, new: neu };
  const b = await ensureBuilds();
  return { old: b.old.path, new: b.new.path };
}

/** What copy-binary does: a temp file beside the binary, renamed over it (cp would hit ETXTBSY). */
async function replaceBinary(target: string, source: string | Buffer): Promise<void> {
  const tmp = `${target}.hotswap-new`;
  if (typeof source === 'string') await copyFile(source, tmp);
  else await writeFile(tmp, source);
  await chmod(tmp, 0o755);
  await rename(tmp, target);
}

function httpOk(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('error', () => resolve(false));
    req.once('timeout', () => req.destroy());
  });
}


/** n idle loopback connections, so the TCP table has more than 1000 slots
 * (the kernel prints slot numbers as "%4d:": from 1000 on without a leading blank). */
async function fillTcpTable(n: number): Promise<{ close(): Promise<void> }> {
  const accepted: Socket[] = [];
  const server: Server = createServer((s) => void accepted.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const clients: Socket[] = [];
  for (let i = 0; i < n; i++) {
    clients.push(await new Promise<Socket>((resolve, reject) => {
      const c = connect({ host: '127.0.0.1', port }, () => resolve(c));
      c.once('error', reject);
    }));
  }
  return {
    close: async () => {
      for (const c of [...clients, ...accepted]) c.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const paths = (h: NginxHost) => ({ pidFile: h.pidFile, binary: h.binaryPath, errorLog: h.errorLog });
const ok = (r: WaitResult) => {
  expect(r.ok, JSON.stringify(r, null, 1)).to.equal(true);
  return r as Extract<WaitResult, { ok: true }>;
};
const failed = (r: WaitResult) => {
  expect(r.ok, JSON.stringify(r, null, 1)).to.equal(false);
  return r as Extract<WaitResult, { ok: false }>;
};

describe('nginx host scripts on a real nginx', function () {
  this.timeout(60_000);
  const t = new LocalTransport('local');
  const hosts: NginxHost[] = [];
  const others: ChildProcess[] = [];
  const dirs: string[] = [];
  let bin: { old: string; new: string };
  let oldSha: string;
  let newSha: string;

  before(async () => {
    bin = await builds();
    oldSha = await sha256(bin.old);
    newSha = await sha256(bin.new);
  });

  after(async () => {
    for (const h of hosts) await h.stop().catch(() => undefined);
    for (const c of others) {
      if (c.pid && c.exitCode === null) c.kill('SIGKILL');
      if (c.pid) await waitGone(c.pid, 2000);
    }
    for (const d of dirs) await rm(d, { recursive: true, force: true });
    await t.close();
  });

  async function host(o: { daemon?: boolean } = {}): Promise<NginxHost> {
    const root = await mkdtemp(join(tmpdir(), 'hotswap-scripts-'));
    dirs.push(root);
    const h = await startNginxHost({ root, binary: bin.old, port: await freePort(), ...o });
    hosts.push(h);
    return h;
  }

  it('upgrades old -> new: facts, USR2, new-master-ready, WINCH, old-workers-exited, QUIT, old-master-exited', async () => {
    const h = await host();
    const t0 = performance.now();
    const before: HostFacts = await gatherFacts(t, paths(h));
    const factsMs = performance.now() - t0;
    const m = before.master!;
    expect(before.blockers, before.blockers.join('\n')).to.deep.equal([]);
    expect(m.exeSha256).to.equal(oldSha);
    expect(m.daemon.daemonized).to.equal('yes');
    expect(m.execIsBinary).to.equal(true);
    const oldPid = m.pid;

    await replaceBinary(h.binaryPath, bin.new);
    const t1 = performance.now();
    expect((await sendSignal(t, 'USR2', oldPid)).ok).to.equal(true);
    const ready = ok(await waitFor(t, {
      mode: 'new-master-ready', oldPid, pidFile: h.pidFile, timeoutMs: 10_000, errorLog: h.errorLog,
      errorLogSizeAtStart: before.errorLog.size!, pidFileCtimeAtStart: before.pidFile.ctime!,
    }));
    const newPid = ready.newMasterPid!;
    expect(newPid).to.be.a('number').and.not.equal(oldPid);
    expect(ready.workers).to.have.length.of.at.least(1); // ready = at least one worker up
    expect(await httpOk(h.port)).to.equal(true);

    expect((await sendSignal(t, 'WINCH', oldPid)).ok).to.equal(true);
    const drained = ok(await waitFor(t, {
      mode: 'old-workers-exited', oldPid, pidFile: h.pidFile, timeoutMs: 10_000, errorLog: h.errorLog,
      errorLogSizeAtStart: before.errorLog.size!,
    }));
    expect(drained.newMasterPid).to.equal(newPid);

    expect((await sendSignal(t, 'QUIT', oldPid)).ok).to.equal(true);
    const gone = ok(await waitFor(t, {
      mode: 'old-master-exited', oldPid, pidFile: h.pidFile, timeoutMs: 10_000, errorLog: h.errorLog,
      errorLogSizeAtStart: before.errorLog.size!,
    }));
    const upgradeMs = performance.now() - t1;
    expect(gone.newMasterPid).to.equal(newPid);

    // what really runs now: the new build, by the bytes of /proc/<new master>/exe
    expect(await sha256(`/proc/${newPid}/exe`)).to.equal(newSha);
    const after = await gatherFacts(t, paths(h));
    expect(after.master?.pid).to.equal(newPid);
    expect(after.master?.exeSha256).to.equal(newSha);
    expect(after.oldbinFile.state).to.equal('absent');
    expect(after.upgradeInProgress).to.equal(false);
    expect(after.master?.daemon.daemonized).to.equal('yes'); // ready for the next upgrade
    expect(after.blockers).to.deep.equal([]);
    expect(await httpOk(h.port)).to.equal(true);
    // a zombie old master (PID 1 may not reap) is refused like a stale pid
    const again = await sendSignal(t, 'QUIT', oldPid);
    expect(again.ok).to.equal(false);
    if (!again.ok) expect(['zombie', 'no-such-process']).to.include(again.reason);
    console.log(`      facts ${factsMs.toFixed(0)} ms; USR2 -> old master gone ${upgradeMs.toFixed(0)} ms`);

    // A second upgrade (back to old) from the inherited master; this time WINCH is
    // never sent, so old-workers-exited times out and reports the old workers.
    // One request parked in an old worker, among a TCP table of over 1000 slots.
    const filler = await fillTcpTable(1100);
    const held = await holdConnection(h.port);
    await new Promise((r) => setTimeout(r, 100));
    const f2 = await gatherFacts(t, paths(h));
    await replaceBinary(h.binaryPath, bin.old);
    expect((await sendSignal(t, 'USR2', newPid)).ok).to.equal(true);
    const ready2 = ok(await waitFor(t, {
      mode: 'new-master-ready', oldPid: newPid, pidFile: h.pidFile, timeoutMs: 10_000, errorLog: h.errorLog,
      errorLogSizeAtStart: f2.errorLog.size!, pidFileCtimeAtStart: f2.pidFile.ctime!,
    }));
    const start = performance.now();
    const timeout = failed(await waitFor(t, {
      mode: 'old-workers-exited', oldPid: newPid, pidFile: h.pidFile, timeoutMs: 300, errorLog: h.errorLog,
      errorLogSizeAtStart: f2.errorLog.size!,
    }));
    expect(performance.now() - start).to.be.lessThan(3000);
    expect(timeout.reason).to.equal('timeout');
    expect(timeout.message).to.match(/2 old worker process\(es\) still running/);
    const oldWorkers = timeout.alive.filter((p) => p.scope === 'old-child');
    expect(oldWorkers.map((p) => p.role)).to.deep.equal(['worker', 'worker']);
    expect(oldWorkers.map((p) => p.pid)).to.deep.equal(after.master!.workers);
    expect(oldWorkers.map((w) => w.tcpEstablished).sort()).to.deep.equal([0, 1]);
    for (const w of oldWorkers) expect(w.tcpListen).to.equal(1);
    held.destroy();
    await filler.close();
    expect(timeout.alive.find((p) => p.scope === 'new-master')?.pid).to.equal(ready2.newMasterPid);
  });

  for (const shell of ['dash', 'bash']) {
    it(`wait loop under ${shell}: reads only the error log lines appended after the offset, a line written in two parts whole`, async () => {
      const h = await host();
      // a failure line from before the facts: past the offset, it must not count
      await appendFile(h.errorLog, '2026/01/01 00:00:00 [notice] 1#1: new binary process 1 exited with code 1\n');
      const f = await gatherFacts(t, paths(h));
      const oldPid = f.master!.pid;
      const args = (ms: number) => ['new-master-ready', String(oldPid), h.pidFile, String(ms), h.errorLog, String(f.errorLog.size!)];
      const quiet = parseWait((await runScript(WAIT_SCRIPT, args(200), [shell])).stdout);
      expect(failed(quiet).reason).to.equal('timeout');
      // the old master's line, arriving in two writes while the loop looks
      const line = `2026/12/04 10:00:00 [notice] ${oldPid}#${oldPid}: new binary process 4242 exited with code 1`;
      const waiting = runScript(WAIT_SCRIPT, args(5_000), [shell]);
      await new Promise((r) => setTimeout(r, 150));
      await appendFile(h.errorLog, line.slice(0, 40));
      await new Promise((r) => setTimeout(r, 150));
      await appendFile(h.errorLog, `${line.slice(40)}\n`);
      const r = failed(parseWait((await waiting).stdout));
      expect(r.reason).to.equal('new-binary-exited');
      expect(r.logLine).to.equal(line);
      expect(r.elapsedMs).to.be.lessThan(2_000);
    });
  }

  it('wait loop: a symlinked error log is not scanned from the link size (no failure read from old lines)', async () => {
    const h = await host();
    await appendFile(h.errorLog, '2026/01/01 00:00:00 [notice] 1#1: new binary process 1 exited with code 1\n');
    const link = join(dirname(h.errorLog), 'error-link.log');
    await symlink(h.errorLog, link);
    const f = await gatherFacts(t, { ...paths(h), errorLog: link });
    const r = failed(await waitFor(t, {
      mode: 'new-master-ready', oldPid: f.master!.pid, pidFile: h.pidFile, timeoutMs: 200, errorLog: link, errorLogSizeAtStart: f.errorLog.size!,
    }));
    expect(r.reason).to.equal('timeout');
  });

  it('runs the wait loop under bash where the host has one', async () => {
    const argv = scriptArgv('wait', ['new-master-ready', '1', '/nonexistent/x.pid', '0', '', '0']);
    // the same launcher, with a script that says which shell it is in
    argv[4] = 'echo "bash=${BASH_VERSION:+yes}"';
    expect((await t.exec(argv)).stdout).to.equal('bash=yes\n');
    expect((await t.exec(['env', 'PATH=/nonexistent', '/bin/sh', ...argv.slice(1)])).stdout).to.equal('bash=\n');
  });

  it('fails new-master-ready at once when the new binary exits 1, and the old master serves on', async () => {
    const h = await host();
    const f = await gatherFacts(t, paths(h));
    const oldPid = f.master!.pid;
    await replaceBinary(h.binaryPath, Buffer.from('#!/bin/sh\nexit 1\n'));
    expect((await sendSignal(t, 'USR2', oldPid)).ok).to.equal(true);
    const start = performance.now();
    const r = failed(await waitFor(t, {
      mode: 'new-master-ready', oldPid, pidFile: h.pidFile, timeoutMs: 10_000, errorLog: h.errorLog,
      errorLogSizeAtStart: f.errorLog.size!, pidFileCtimeAtStart: f.pidFile.ctime!,
    }));
    expect(performance.now() - start).to.be.lessThan(2000);
    expect(r.reason).to.equal('new-binary-exited');
    expect(r.logLine ?? r.message).to.match(/new binary process \d+ exited with code 1|renamed .* back/);
    expect(r.pidFilePid).to.equal(oldPid);
    expect(r.alive.filter((p) => p.scope === 'old-child' && p.role === 'worker')).to.have.length(2);
    expect(await httpOk(h.port)).to.equal(true);
    const after = await gatherFacts(t, paths(h));
    expect(after.oldbinFile.state).to.equal('absent');
    expect(after.master?.pid).to.equal(oldPid);
  });

  it('hashes the running image once when it is the binary, apart once the binary is replaced', async () => {
    const h = await host();
    const run = async () => (await runScript(FACTS_SCRIPT, [h.pidFile, h.binaryPath, h.errorLog])).stdout;
    const before = parseFacts(await run());
    expect(before.master?.exeDevIno).to.equal(before.binary.devIno);
    expect(before.master?.exeSha256).to.equal(oldSha).and.equal(before.binary.sha256);
    // nginx processes go out as titles, read by the shell (no od per process)
    expect((await run()).match(/^p\.title_s =nginx: worker process$/gm)).to.have.length(2);
    await replaceBinary(h.binaryPath, bin.new);
    const out = await run();
    const after = parseFacts(out);
    expect(after.master?.exeDeleted).to.equal(true);
    expect(after.master?.exeDevIno).to.not.equal(after.binary.devIno);
    expect(after.master?.exeSha256).to.equal(oldSha);
    expect(after.binary.sha256).to.equal(newSha);
    expect(after.master?.execIsBinary).to.equal(true);
    // the old bytes back, in a new file: another dev:ino, hashed on its own
    await replaceBinary(h.binaryPath, bin.old);
    const back = parseFacts(await run());
    expect(back.binary.devIno).to.not.equal(back.master?.exeDevIno);
    expect(back.binary.sha256).to.equal(oldSha).and.equal(back.master?.exeSha256);
  });

  it('refuses to signal what is not a live nginx master', async () => {
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    others.push(sleeper);
    const r = await sendSignal(t, 'QUIT', sleeper.pid!);
    expect(r).to.deep.include({ ok: false, reason: 'not-nginx-master' });
    expect(r.message).to.match(/not an nginx master: sleep 60/);
    expect(sleeper.exitCode).to.equal(null);
    expect(await sendSignal(t, 'TERM', 2 ** 22 + 12345)).to.deep.include({ ok: false, reason: 'no-such-process' });
    let thrown: unknown;
    try {
      await sendSignal(t, 'KILL' as never, sleeper.pid!);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).to.be.instanceOf(TypeError);
  });

  it('flags a daemon-off master (lab host, own session)', async () => {
    const h = await host({ daemon: false });
    const f = await gatherFacts(t, paths(h));
    expect(f.master?.daemon.daemonized).to.equal('no');
    expect(f.blockers.join('\n')).to.match(/not daemonized/);
  });

  it('reads the same facts under dash and bash --posix, and survives odd paths', async () => {
    const h = hosts[0]!;
    const args = [h.pidFile, h.binaryPath, h.errorLog];
    const a = parseFacts((await runScript(FACTS_SCRIPT, args, ['dash'])).stdout);
    const b = parseFacts((await runScript(FACTS_SCRIPT, args, ['bash', '--posix'])).stdout);
    // The master's session leader may be a zombie that init reaps between the
    // two reads: its state, and the rule's wording that quotes it, may differ;
    // the verdict (daemonized or not) must not.
    // The disk's free bytes change between any two reads (the logs grow): compare that both read a number.
    const steady = (f: typeof a) => ({ ...f, binary: { ...f.binary, dirFreeBytes: typeof f.binary.dirFreeBytes }, master: f.master && { ...f.master, sessionLeader: undefined, daemon: { ...f.master.daemon, rule: undefined } } });
    expect(b.master?.daemon.daemonized).to.equal(a.master?.daemon.daemonized);
    expect(steady(b)).to.deep.equal(steady(a));
    // a directory with a newline, a tab and UTF-8 in its name
    const odd = await mkdtemp(join(tmpdir(), 'hotswap odd\n\té-'));
    dirs.push(odd);
    await writeFile(join(odd, 'nginx.pid'), '');
    const f = parseFacts((await runScript(FACTS_SCRIPT, [join(odd, 'nginx.pid'), join(odd, 'nginx'), join(odd, 'err.log')])).stdout);
    expect(f.pidFile).to.deep.include({ path: join(odd, 'nginx.pid'), state: 'empty' });
    expect(f.binary).to.include({ path: join(odd, 'nginx'), exists: false, dirExists: true });
    expect((await stat(odd)).isDirectory()).to.equal(true);
    // the /proc scan used where /proc/PID/task/TID/children is missing finds the same children
    const master = a.master!.pid;
    const both = await runScript(`${readSource('lib/children.sh')}\nchildren "$1"; echo "$CHILDREN"; children_scan "$1"; echo "$CHILDREN"`, [String(master)]);
    const [fast, scan] = both.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number).sort());
    expect(fast).to.have.length(2);
    expect(scan).to.deep.equal(fast);
    // a wait with nonsense arguments is refused, not run
    const w = await runScript(WAIT_SCRIPT, ['sideways', '1', '/x', '10', '/x', '0']);
    expect(w.code).to.equal(2);
  });
});
