// Small helpers of the benchmark: statistics, the machine it runs on, and
// running a command with its wall time, CPU time and peak memory.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const min = (xs: readonly number[]) => (xs.length ? Math.min(...xs) : NaN);
export const max = (xs: readonly number[]) => (xs.length ? Math.max(...xs) : NaN);

/** 0.734 s -> "0.73 s"; 12.3 s -> "12.3 s" */
export function secs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  const s = ms / 1000;
  return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
}

export function msec(ms: number): string {
  return Number.isFinite(ms) ? `${Math.round(ms)} ms` : '–';
}

export function mib(kb: number): string {
  return Number.isFinite(kb) ? `${(kb / 1024).toFixed(0)} MiB` : '–';
}

export function ratio(x: number): string {
  return Number.isFinite(x) ? `${x < 10 ? x.toFixed(1) : x.toFixed(0)}x` : '–';
}

/**
 * CPU accounting for a process and everything it starts from then on, with a
 * cgroup of its own (cgroup v1 cpuacct, or v2 cpu.stat). For the lab's sshd this
 * is every session it serves and every command run through them: the host side
 * of an upgrade, whoever drives it (nginx's own processes are not included: the
 * new master is forked by the old one). Null where cgroups cannot be used.
 */
export class CpuAccount {
  private constructor(private readonly dir: string, private readonly v2: boolean) {}

  static create(name: string): CpuAccount | null {
    const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
    const base = v2 ? '/sys/fs/cgroup' : '/sys/fs/cgroup/cpuacct';
    if (!existsSync(join(base, 'cgroup.procs'))) return null;
    const dir = join(base, name);
    try {
      mkdirSync(dir);
      return new CpuAccount(dir, v2);
    } catch {
      return null;
    }
  }

  /** Moves a process (and so its future children) in. */
  add(pid: number): boolean {
    try {
      writeFileSync(join(this.dir, 'cgroup.procs'), `${pid}\n`);
      return true;
    } catch {
      return false;
    }
  }

  /** CPU seconds used inside so far. */
  seconds(): number {
    try {
      if (this.v2) return Number(/usage_usec (\d+)/.exec(readFileSync(join(this.dir, 'cpu.stat'), 'utf8'))?.[1]) / 1e6;
      return Number(readFileSync(join(this.dir, 'cpuacct.usage'), 'utf8')) / 1e9;
    } catch {
      return NaN;
    }
  }

  /** Removes the cgroup once its processes are gone (bounded wait). */
  async remove(waitMs = 3_000): Promise<void> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        rmdirSync(this.dir);
        return;
      } catch {
        if (Date.now() >= deadline) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
}

/** Waits (bounded) until a process has no child left: for sshd, until every session has ended. */
export async function untilNoChildren(pid: number, waitMs = 3_000): Promise<void> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    let kids = '';
    try {
      kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    } catch {
      return;
    }
    if (!kids) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function tryRun(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim(); // ssh -V answers on stderr
}

export interface Machine {
  date: string;
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  os: string;
  node: string;
  openssh: string;
  ansible: string | null;
  /** the two Debian nginx builds, "old -> new" */
  builds: string;
  /** /proc/loadavg's 1-minute figure when the benchmark started: other work on a shared machine */
  loadavg: string;
}

export function machine(ansiblePlaybook: string | null, builds: string): Machine {
  const osRelease = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '';
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    builds,
    nproc: Number(tryRun('nproc', [])) || cpus().length,
    cpuModel: cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? '?',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    kernel: tryRun('uname', ['-r']),
    os: /PRETTY_NAME="([^"]+)"/.exec(osRelease)?.[1] ?? '?',
    node: process.version,
    openssh: tryRun('ssh', ['-V']).split(',')[0],
    loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    ansible: ansiblePlaybook ? tryRun(ansiblePlaybook, ['--version']).split('\n')[0].replace(/^ansible-playbook \[core (.*)\]$/, 'ansible-core $1') : null,
  };
}

/** A file on PATH, or null. */
export function which(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

export interface Measured {
  code: number | null;
  wallMs: number;
  /** epoch ms when spawned / when it exited */
  startedAt: number;
  endedAt: number;
  /** CPU time of the process and the children it waited for (s), peak RSS (KiB); NaN when not measured */
  userS: number;
  sysS: number;
  maxRssKb: number;
  stdout: string;
  stderr: string;
}

const GNU_TIME = '/usr/bin/time';
/** pids of the commands being measured right now */
const measuring = new Set<number>();

/** Stops every command being measured (an interrupted benchmark), by pid. */
export function stopMeasured(): void {
  for (const pid of measuring) stopTree(pid);
}
export const HAVE_GNU_TIME = existsSync(GNU_TIME);

/**
 * Runs argv and measures it. With GNU time (Debian package `time`) the CPU time
 * and peak RSS come from its rusage (written to a side file, so the command's
 * own output is untouched); the wall time is always ours, spawn to exit.
 */
export function measure(argv: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeFile?: string; timeoutMs?: number } = {}): Promise<Measured> {
  const timeFile = opts.timeFile;
  const full = HAVE_GNU_TIME && timeFile ? [GNU_TIME, '-f', '%U %S %M', '-o', timeFile, ...argv] : argv;
  if (timeFile) rmSync(timeFile, { force: true });
  return new Promise((resolve, reject) => {
    const startedAt = Date.now();
    const t0 = performance.now();
    const child = spawn(full[0], full.slice(1), { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid) measuring.add(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { if (stdout.length < 64_000_000) stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-200_000); });
    const closed = Promise.all([new Promise((r) => child.stdout.once('close', r)), new Promise((r) => child.stderr.once('close', r))]);
    // a bound on every run: a hung run is stopped, by pid (GNU time's child first), and reported
    const timer = opts.timeoutMs ? setTimeout(() => stopTree(child.pid), opts.timeoutMs) : undefined;
    child.once('error', (e) => { clearTimeout(timer); reject(e); });
    child.once('exit', (code) => {
      const wallMs = performance.now() - t0;
      measuring.delete(child.pid!);
      const endedAt = Date.now();
      clearTimeout(timer);
      void closed.then(() => {
        let userS = NaN, sysS = NaN, maxRssKb = NaN;
        if (timeFile && existsSync(timeFile)) {
          const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
          const m = /^([\d.]+) ([\d.]+) (\d+)$/.exec(last);
          if (m) [userS, sysS, maxRssKb] = [Number(m[1]), Number(m[2]), Number(m[3])];
        }
        resolve({ code, wallMs, startedAt, endedAt, userS, sysS, maxRssKb, stdout, stderr });
      });
    });
  });
}

/** SIGTERM a process's children (by pid, from /proc), then the process. */
function stopTree(pid: number | undefined): void {
  if (!pid) return;
  let kids: number[] = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // gone already
  }
  for (const p of [...kids, pid]) {
    try {
      process.kill(p, 'SIGTERM');
    } catch {
      // exited meanwhile
    }
  }
}

export function tail(text: string, lines = 15): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}
