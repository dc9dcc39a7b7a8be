import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { chmod, chown, copyFile, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { join, resolve } from 'node:path';
import { childrenOf, isMaster, signal, sleep, waitGone } from './processes.js';

export { isMaster, processState } from './processes.js';

export type NginxHostOptions = {
  root: string;
  binary: string;
  port: number;
  workers?: number;
  /** directives appended inside `http { }` */
  extraHttpConfig?: string;
  /** default true; false runs the master in the foreground as our child (USR2/WINCH then refuse) */
  daemon?: boolean;
  /** argv[0] the master is started with (default: its absolute path); e.g. a bare "nginx" */
  argv0?: string;
  /** run nginx as this user (it then owns the whole prefix); default: whoever runs the lab */
  user?: { uid: number; gid: number };
  /** the master's working directory; default "/", as systemd and init scripts start it */
  cwd?: string;
};

export type NginxHost = {
  root: string;
  port: number;
  binaryPath: string;
  pidFile: string;
  errorLog: string;
  /** the pid in nginx.pid when it is a live master of this host, else null */
  masterPid(): Promise<number | null>;
  stop(): Promise<void>;
};

const START_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 5_000;

// Why: a hot upgrade only works on an install laid out like a real one (absolute
// argv[0], pid file from the config, writable temp paths); this builds one under `root`.
export async function startNginxHost(opts: NginxHostOptions): Promise<NginxHost> {
  const root = resolve(opts.root);
  if (!/^[\w./+@-]+$/.test(root)) throw new Error(`nginx host root must be a plain path (it goes into nginx.conf): ${root}`);
  const binaryPath = join(root, 'sbin', 'nginx');
  const confPath = join(root, 'conf', 'nginx.conf');
  const pidFile = join(root, 'logs', 'nginx.pid');
  const errorLog = join(root, 'logs', 'error.log');
  const daemon = opts.daemon ?? true;

  const running = await readPid(pidFile);
  if (running !== null && (await isMaster(running, confPath))) {
    throw new Error(`an nginx master (pid ${running}) already runs in ${root}: stop it first`);
  }
  for (const d of ['sbin', 'conf', 'logs', 'temp']) await mkdir(join(root, d), { recursive: true });
  // Copy then rename, as an install would: a binary still executing cannot be overwritten.
  await copyFile(opts.binary, `${binaryPath}.tmp`);
  await chmod(`${binaryPath}.tmp`, 0o755);
  await rename(`${binaryPath}.tmp`, binaryPath);
  await writeFile(confPath, nginxConf(root, opts.port, opts.workers ?? 2, daemon, opts.extraHttpConfig ?? ''));
  if (opts.user) await chownTree(root, opts.user.uid, opts.user.gid);

  const startupLog = join(root, 'logs', 'startup.log');
  const out = openSync(startupLog, 'w');
  // Why the cwd: the master keeps the one it was started in, and hotswap may run
  // the staged `nginx -t` there as the host's user (for a relative -p); the
  // caller's (a clone under root's 0700 home, say) is nothing a real install has.
  const child = spawn(binaryPath, ['-p', `${root}/`, '-c', confPath], {
    cwd: opts.cwd ?? '/', stdio: ['ignore', out, out], detached: !daemon, ...(opts.user ?? {}), ...(opts.argv0 ? { argv0: opts.argv0 } : {}),
  });
  closeSync(out);
  let spawnError: Error | undefined;
  // a failed spawn (EACCES, ENOENT) emits 'error' and never 'exit'
  const exited = new Promise<number | null>((r) => {
    child.once('exit', (code) => r(code));
    child.once('error', (e) => {
      spawnError = e;
      r(-1);
    });
  });

  const fail = async (why: string): Promise<never> => {
    if (!daemon && child.pid) signal(child.pid, 'SIGKILL');
    const tail = async (f: string) => (await readFile(f, 'utf8').catch(() => '')).trim().split('\n').slice(-5).join('\n');
    throw new Error(`nginx at ${root} did not start: ${why}\n${await tail(startupLog)}\n${await tail(errorLog)}`.trim());
  };

  if (daemon) {
    const code = await exited;
    if (code !== 0) await fail(spawnError ? `cannot run ${binaryPath}: ${spawnError.message}` : `${binaryPath} exited with code ${code}`);
  }
  const host: NginxHost = {
    root, port: opts.port, binaryPath, pidFile, errorLog,
    masterPid: async () => {
      const pid = await readPid(pidFile);
      return pid !== null && (await isMaster(pid, confPath)) ? pid : null;
    },
    stop: () => stopMasters([pidFile, `${pidFile}.oldbin`], daemon ? [] : [child.pid ?? 0], confPath),
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  let state = 'no pid file';
  for (;;) {
    if (!daemon && child.exitCode !== null) await fail(`exited with code ${child.exitCode}`);
    if ((await host.masterPid()) === null) state = `no live master in ${pidFile}`;
    else if (!(await healthy(opts.port))) state = `http://127.0.0.1:${opts.port}/healthz does not answer 200`;
    else return host;
    if (Date.now() >= deadline) {
      await host.stop().catch(() => undefined);
      await fail(`${state} after ${START_TIMEOUT_MS} ms`);
    }
    await sleep(20);
  }
}

async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await chown(dir, uid, gid);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await chownTree(p, uid, gid);
    else await chown(p, uid, gid);
  }
}

function nginxConf(root: string, port: number, workers: number, daemon: boolean, extra: string): string {
  const temp = (name: string) => `    ${name}_temp_path ${root}/temp/${name};`;
  return `# written by hotswap lab/nginx-host.ts
daemon ${daemon ? 'on' : 'off'};
worker_processes ${workers};
pid ${root}/logs/nginx.pid;
error_log ${root}/logs/error.log notice;

events {
    worker_connections 1024;
}

http {
    access_log off;
${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n')}
${extra}
    server {
        listen 127.0.0.1:${port};
        location = /healthz { return 200 "ok\\n"; }
        location / { return 200 "hello from ${root}\\n"; }
    }
}
`;
}

async function readPid(file: string): Promise<number | null> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('error', () => resolve(false));
    req.once('timeout', () => req.destroy());
  });
}

// TERM every master of this host (current, .oldbin, our foreground child), wait,
// then KILL what is left together with its workers.
async function stopMasters(pidFiles: string[], extra: number[], confPath: string): Promise<void> {
  const candidates = [...(await Promise.all(pidFiles.map(readPid))), ...extra];
  const masters: number[] = [];
  for (const pid of new Set(candidates)) if (pid && (await isMaster(pid, confPath))) masters.push(pid);

  await Promise.all(masters.map(async (pid) => {
    const workers = await childrenOf(pid);
    signal(pid, 'SIGTERM');
    if (await waitGone(pid, STOP_TIMEOUT_MS)) return;
    for (const p of [pid, ...workers]) signal(p, 'SIGKILL');
    if (!(await waitGone(pid, 1_000))) throw new Error(`nginx master ${pid} survived SIGKILL`);
  }));
}
