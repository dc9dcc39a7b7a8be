// A small local nginx starter for the fixture capture and the script tests. It
// covers what lab/nginx-host.ts does not: a relative or bare argv[0], a `daemon
// off` master that stays in our session, paths with spaces, the error_log level.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from '../../lab/free-port.js';
import { childrenOf, isAlive, signal, sleep, waitGone } from '../../lab/processes.js';

export interface LocalNginxOptions {
  binary: string;
  /** parent folder; a fresh temp folder inside it is the prefix */
  parent?: string;
  /** folder name prefix (may contain a space) */
  name?: string;
  workers?: number;
  /** `on`: daemonized; `off-child`: daemon off, a plain child of this process (our
   * session); `off-setsid`: daemon off in its own session (like systemd/docker) */
  daemon?: 'on' | 'off-child' | 'off-setsid';
  /** how argv[0] is spelled: absolute path, `sbin/nginx` from cwd=prefix, or `nginx` via PATH */
  argv0?: 'absolute' | 'relative' | 'bare';
  errorLogLevel?: 'notice' | 'error';
}

export interface LocalNginx {
  root: string;
  port: number;
  binaryPath: string;
  pidFile: string;
  errorLog: string;
  masterPid(): Promise<number>;
  /** write `bytes` to a temp file beside the binary and rename it over: what copy-binary does */
  replaceBinary(source: string | Buffer): Promise<void>;
  /** every pid to stop, beyond the pid files' */
  track(pid: number): void;
  /** stop every process by pid, then remove the prefix */
  stop(): Promise<void>;
}

export async function startLocalNginx(o: LocalNginxOptions): Promise<LocalNginx> {
  const root = await mkdtemp(join(o.parent ?? tmpdir(), o.name ?? 'hotswap-nginx-'));
  const port = await freePort();
  const binaryPath = join(root, 'sbin', 'nginx');
  const pidFile = join(root, 'logs', 'nginx.pid');
  const errorLog = join(root, 'logs', 'error.log');
  const conf = join(root, 'conf', 'nginx.conf');
  for (const d of ['sbin', 'conf', 'logs', 'temp']) await mkdir(join(root, d), { recursive: true });
  await copyFile(o.binary, binaryPath);
  await chmod(binaryPath, 0o755);
  const q = (p: string) => `"${p}"`;
  const daemon = o.daemon ?? 'on';
  await writeFile(conf, `daemon ${daemon === 'on' ? 'on' : 'off'};
worker_processes ${o.workers ?? 2};
pid ${q(pidFile)};
error_log ${q(errorLog)} ${o.errorLogLevel ?? 'notice'};
events { worker_connections 256; }
http {
    access_log off;
${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((n) => `    ${n}_temp_path ${q(join(root, 'temp', n))};`).join('\n')}
    server {
        listen 127.0.0.1:${port};
        location / { return 200 "ok\\n"; }
    }
}
`);

  const argv0Style = o.argv0 ?? 'absolute';
  const cmd = argv0Style === 'absolute' ? binaryPath : argv0Style === 'relative' ? 'sbin/nginx' : 'nginx';
  const env = { ...process.env, PATH: argv0Style === 'bare' ? `${join(root, 'sbin')}:/usr/bin:/bin` : process.env.PATH };
  const tracked = new Set<number>();
  let child: ChildProcess | undefined;
  const args = ['-p', root, '-c', 'conf/nginx.conf'];
  if (daemon === 'on') {
    await new Promise<void>((resolve, reject) => {
      execFile(cmd, args, { cwd: root, env }, (err, _out, stderr) => (err ? reject(new Error(`${cmd}: ${stderr || err.message}`)) : resolve()));
    });
  } else {
    child = spawn(cmd, args, { cwd: root, env, stdio: 'ignore', detached: daemon === 'off-setsid' });
    child.once('error', () => undefined);
    if (child.pid) tracked.add(child.pid);
  }
  await waitForPort(port, 5000);

  const readPid = async (f: string): Promise<number | null> => {
    const n = Number.parseInt((await readFile(f, 'utf8').catch(() => '')).trim(), 10);
    return Number.isInteger(n) && n > 0 ? n : null;
  };
  let pid: number | null = null;
  for (let i = 0; i < 100 && pid === null; i++) {
    pid = await readPid(pidFile);
    if (pid === null) await sleep(20);
  }
  if (pid === null) throw new Error(`nginx at ${root}: no pid file`);
  tracked.add(pid);

  return {
    root, port, binaryPath, pidFile, errorLog,
    masterPid: async () => {
      const p = await readPid(pidFile);
      if (p === null) throw new Error(`no pid in ${pidFile}`);
      tracked.add(p);
      return p;
    },
    replaceBinary: async (source) => {
      const tmp = `${binaryPath}.hotswap-tmp`;
      if (typeof source === 'string') await copyFile(source, tmp);
      else await writeFile(tmp, source);
      await chmod(tmp, 0o755);
      await rename(tmp, binaryPath);
    },
    track: (p) => void tracked.add(p),
    stop: async () => {
      // Every master we know of (pid files, tracked), by pid; then their children.
      for (const f of [pidFile, `${pidFile}.oldbin`]) {
        const p = await readPid(f);
        if (p) tracked.add(p);
      }
      const masters = [...tracked];
      const all = new Set<number>(masters);
      for (const m of masters) for (const c of await childrenOf(m)) all.add(c);
      for (const m of masters) if (await isAlive(m)) signal(m, 'SIGTERM');
      for (const m of masters) await waitGone(m, 3000);
      for (const p of all) if (await isAlive(p)) signal(p, 'SIGKILL');
      for (const p of all) await waitGone(p, 1000);
      await rm(root, { recursive: true, force: true });
    },
  };
}

export interface ScriptRun {
  stdout: string;
  stderr: string;
  code: number;
}

/** Run a constant script exactly as a transport would: `sh -c SCRIPT hotswap ARGS...`. */
export function runScript(script: string, args: readonly string[], shell: readonly string[] = ['sh']): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    execFile(shell[0]!, [...shell.slice(1), '-c', script, 'hotswap', ...args], { encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ stdout, stderr, code: err ? (err.code as number) : 0 });
    });
  });
}
