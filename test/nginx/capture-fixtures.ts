// Regenerates test/fixtures/nginx/*.txt: the raw output of the host scripts
// against real nginx masters in every state the parsers must understand.
//   npx tsx test/nginx/capture-fixtures.ts
// Needs the two Debian builds (NGINX_OLD / NGINX_NEW, default /tmp/ngx/u9 and u11).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { statSync } from 'node:fs';
import { script } from '../../src/remote/scripts.js';

const FACTS_SCRIPT = script('facts');
const SIGNAL_SCRIPT = script('signal');
const WAIT_SCRIPT = script('wait');
import { sleep, waitGone } from '../../lab/processes.js';
import { runScript, startLocalNginx, type LocalNginx } from './local-nginx.js';
import { holdConnection } from '../../lab/load.js';

const OLD = process.env.NGINX_OLD ?? '/tmp/ngx/u9/usr/sbin/nginx';
const NEW = process.env.NGINX_NEW ?? '/tmp/ngx/u11/usr/sbin/nginx';
const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'nginx');
const FAILING_BINARY = '#!/bin/sh\necho "new binary refuses to start" >&2\nexit 1\n';

const hosts: LocalNginx[] = [];
const dirs: string[] = [];
const others: ChildProcess[] = [];
async function host(o: Parameters<typeof startLocalNginx>[0]): Promise<LocalNginx> {
  const h = await startLocalNginx(o);
  hosts.push(h);
  return h;
}

async function save(name: string, stdout: string): Promise<void> {
  await writeFile(join(OUT, name), stdout);
  console.log(`${name}: ${stdout.length} bytes`);
}
const facts = (h: LocalNginx, binary = h.binaryPath) => runScript(FACTS_SCRIPT, [h.pidFile, binary, h.errorLog]);
const wait = (h: LocalNginx, mode: string, old: number, timeoutMs: number, logSize: number, ctime?: string) =>
  runScript(WAIT_SCRIPT, [mode, String(old), h.pidFile, String(timeoutMs), h.errorLog, String(logSize), ...(ctime ? [ctime] : [])]);
const sig = async (s: string, pid: number) => {
  const r = await runScript(SIGNAL_SCRIPT, [s, String(pid)]);
  if (r.code !== 0) throw new Error(`signal ${s} ${pid}: ${r.stdout}`);
};
const size = (f: string) => statSync(f).size;
const ctimeOf = async (f: string) => (await runScript('stat -c %z "$1"', [f])).stdout.trim();


async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  try {
    // 1. The full upgrade on one host, daemonized, absolute argv[0].
    const a = await host({ binary: OLD });
    const old = await a.masterPid();
    await save('facts-single-master.txt', (await facts(a)).stdout);
    const held = await holdConnection(a.port);
    await sleep(100);
    const log0 = size(a.errorLog);
    const ct0 = await ctimeOf(a.pidFile);
    await a.replaceBinary(NEW);
    await sig('USR2', old);
    const ready = await wait(a, 'new-master-ready', old, 5000, log0, ct0);
    await save('wait-new-master-ready-ok.txt', ready.stdout);
    await a.masterPid();
    await save('facts-after-usr2.txt', (await facts(a)).stdout);
    await save('wait-old-workers-timeout.txt', (await wait(a, 'old-workers-exited', old, 300, log0)).stdout);
    held.destroy();
    await sleep(50);
    await sig('WINCH', old);
    await save('wait-old-workers-exited-ok.txt', (await wait(a, 'old-workers-exited', old, 5000, log0)).stdout);
    await save('facts-after-winch.txt', (await facts(a)).stdout);
    await sig('QUIT', old);
    await save('wait-old-master-exited-ok.txt', (await wait(a, 'old-master-exited', old, 5000, log0)).stdout);
    await save('facts-after-quit.txt', (await facts(a)).stdout);

    // 2. A new binary that exits 1: the old master logs it (notice level) and renames .oldbin back.
    const b = await host({ binary: OLD });
    const bOld = await b.masterPid();
    const bLog = size(b.errorLog);
    const bCt = await ctimeOf(b.pidFile);
    await b.replaceBinary(Buffer.from(FAILING_BINARY));
    await sig('USR2', bOld);
    await save('wait-new-binary-exited.txt', (await wait(b, 'new-master-ready', bOld, 5000, bLog, bCt)).stdout);
    await save('facts-after-failed-usr2.txt', (await facts(b)).stdout);

    // 3. Same with error_log at "error": no log line, only the renamed pid file tells.
    const c = await host({ binary: OLD, errorLogLevel: 'error' });
    const cOld = await c.masterPid();
    const cLog = size(c.errorLog);
    const cCt = await ctimeOf(c.pidFile);
    await c.replaceBinary(Buffer.from(FAILING_BINARY));
    await sig('USR2', cOld);
    await sleep(100); // the revert happens before the wait starts, as over a slow link
    await save('wait-new-binary-reverted.txt', (await wait(c, 'new-master-ready', cOld, 2000, cLog, cCt)).stdout);
    await save('wait-new-binary-reverted-no-ctime.txt', (await wait(c, 'new-master-ready', cOld, 300, cLog)).stdout);

    // 4. Stale pid file: it names a live process that is not nginx.
    const dir = await mkdtemp(join(tmpdir(), 'hotswap-stale-'));
    dirs.push(dir);
    await mkdir(join(dir, 'logs'));
    await mkdir(join(dir, 'sbin'));
    const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
    others.push(sleeper);
    await writeFile(join(dir, 'logs', 'nginx.pid'), `${sleeper.pid}\n`);
    await save('facts-stale-pid.txt', (await runScript(FACTS_SCRIPT, [join(dir, 'logs', 'nginx.pid'), OLD, join(dir, 'logs', 'error.log')])).stdout);
    await save('signal-not-master.txt', (await runScript(SIGNAL_SCRIPT, ['QUIT', String(sleeper.pid)])).stdout);

    // 5. No pid file at all.
    await save('facts-no-pidfile.txt', (await runScript(FACTS_SCRIPT, [join(dir, 'logs', 'none.pid'), join(dir, 'sbin', 'nginx'), join(dir, 'logs', 'error.log')])).stdout);

    // 6. argv[0] relative (started as sbin/nginx from its prefix), and checked against another file.
    const d = await host({ binary: OLD, argv0: 'relative' });
    await save('facts-relative-argv0.txt', (await facts(d)).stdout);
    await save('facts-relative-argv0-other-binary.txt', (await facts(d, OLD)).stdout);

    // 7. argv[0] bare (found through PATH): USR2 cannot exec it.
    const e = await host({ binary: OLD, argv0: 'bare' });
    await save('facts-bare-argv0.txt', (await facts(e)).stdout);

    // 8. A prefix with a space in it: argv[0] contains a space.
    const sp = await mkdtemp(join(tmpdir(), 'hotswap space-'));
    dirs.push(sp);
    const f = await host({ binary: OLD, parent: sp, name: 'my nginx-' });
    await save('facts-argv0-with-space.txt', (await facts(f)).stdout);

    // 9. daemon off, a plain child of this process; USR2 is then ignored by nginx.
    const g = await host({ binary: OLD, daemon: 'off-child' });
    await save('facts-daemon-off-child.txt', (await facts(g)).stdout);
    const gOld = await g.masterPid();
    const gLog = size(g.errorLog);
    await sig('USR2', gOld);
    await save('wait-usr2-ignored.txt', (await wait(g, 'new-master-ready', gOld, 2000, gLog)).stdout);

    // 10. daemon off in its own session (systemd / docker style).
    const h = await host({ binary: OLD, daemon: 'off-setsid' });
    await save('facts-daemon-off-setsid.txt', (await facts(h)).stdout);

    // 11. old-master-exited that times out: QUIT never sent.
    const k = await host({ binary: OLD });
    const kOld = await k.masterPid();
    await save('wait-old-master-timeout.txt', (await wait(k, 'old-master-exited', kOld, 200, size(k.errorLog))).stdout);
  } finally {
    for (const h of hosts) await h.stop().catch((e) => console.error(`stop ${h.root}: ${e}`));
    for (const c of others) {
      if (c.pid && c.exitCode === null) c.kill('SIGTERM');
      if (c.pid) await waitGone(c.pid, 1000);
    }
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
}

await main();
