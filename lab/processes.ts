import { readdir, readFile } from 'node:fs/promises';

// Why: PID 1 here may not reap, so an exited process lingers as a zombie and
// `kill -0` still succeeds; /proc/PID/stat's state is the only honest answer.
/** The process's state letter (R, S, Z, …), or null when there is no such process. */
export async function processState(pid: number): Promise<string | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (stat === null) return null;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
}

/** Alive means present and not a zombie. */
export async function isAlive(pid: number): Promise<boolean> {
  const state = await processState(pid);
  return state !== null && state !== 'Z';
}

/** /proc/PID/cmdline as one string (NULs as spaces, trimmed); null when gone. */
export async function cmdline(pid: number): Promise<string | null> {
  const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => null);
  return raw === null ? null : raw.replace(/\0/g, ' ').trim();
}

// Why: pid files go stale and pids get reused; only signal what is really an nginx master.
export async function isMaster(pid: number, mustMention?: string): Promise<boolean> {
  const cmd = await cmdline(pid);
  return cmd !== null && cmd.startsWith('nginx: master process') &&
    (mustMention === undefined || cmd.includes(mustMention)) && (await isAlive(pid));
}

// Why: the new master is a child of the old one, so "old workers" must be found by ppid.
export async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => null);
    if (stat === null) continue;
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(ppid) === pid && state !== 'Z') out.push(Number(name));
  }
  return out;
}

// Why: a process orphaned by a closed SSH session is no longer anyone's descendant;
// an environment variable set for every session still identifies it.
export async function pidsWithEnv(entry: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const env = await readFile(`/proc/${name}/environ`, 'latin1').catch(() => '');
    if (env.split('\0').includes(entry)) out.push(Number(name));
  }
  return out;
}

// Why: stopping must end in a known state; poll (bounded) instead of trusting a signal.
export async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(20);
  }
  return true;
}

/** Send a signal, ignoring "no such process". */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
