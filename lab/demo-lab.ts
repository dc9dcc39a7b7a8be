// The demo's footprint on the machine: its fixed folder and ports (the ones
// examples/lab/fleet.yaml names), claimed before anything is touched, and a
// stale lab from a killed run stopped by pid before it is replaced.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { cmdline, isAlive, isMaster, signal, waitGone } from './processes.js';

/** Where the demo keeps its pid while it runs: another demo finds it there. */
const PID_FILE = 'demo.pid';

/** Whether something already listens on 127.0.0.1:port. */
function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(true));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(false)));
  });
}

// Why: two demos share one folder and one set of ports; the second must stop
// before it deletes the first one's lab, not after.
/**
 * Takes `dir` for this process: refuses (throws) when a live demo holds it or a
 * port is taken; stops and removes what a dead demo left there.
 * Returns what it found and cleared, for the demo to say.
 */
export async function claimLab(dir: string, ports: number[]): Promise<string[]> {
  const said: string[] = [];
  if (existsSync(dir)) {
    const pid = Number.parseInt(await readFile(join(dir, PID_FILE), 'utf8').catch(() => ''), 10);
    if (pid > 0 && pid !== process.pid && (await isAlive(pid)) && /\bdemo\b/.test((await cmdline(pid)) ?? '')) {
      throw new Error(`another demo (pid ${pid}) is running in ${dir}: wait for it to end, or stop it with kill ${pid}`);
    }
    const stopped = await stopLeftovers(dir);
    await rm(dir, { recursive: true, force: true });
    said.push(`removed ${dir}, left by an earlier run${stopped.length ? ` (stopped its processes: ${stopped.join(', ')})` : ''}`);
  }
  const taken: number[] = [];
  for (const p of ports) if (await portTaken(p)) taken.push(p);
  if (taken.length) {
    throw new Error(`127.0.0.1 port${taken.length > 1 ? 's' : ''} ${taken.join(', ')} already in use: the demo needs ${ports.join(', ')} (examples/lab/fleet.yaml names them); stop what listens there (ss -ltnp shows it)`);
  }
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, PID_FILE), `${process.pid}\n`);
  return said;
}

// Why: a demo killed with SIGKILL leaves daemonized nginx masters and its sshd
// running; each is found from its own pid file and checked to really be this
// lab's (cmdline naming a file under `dir`) before it is signalled.
async function stopLeftovers(dir: string): Promise<string[]> {
  const found: { pid: number; what: string }[] = [];
  const hosts = await readdir(join(dir, 'hosts')).catch(() => [] as string[]);
  for (const h of hosts) {
    const conf = join(dir, 'hosts', h, 'conf', 'nginx.conf');
    for (const f of ['nginx.pid', 'nginx.pid.oldbin']) {
      const pid = await pidIn(join(dir, 'hosts', h, 'logs', f));
      if (pid && (await isMaster(pid, conf))) found.push({ pid, what: `nginx master ${pid} (${h})` });
    }
  }
  const sshd = await pidIn(join(dir, 'ssh', 'sshd.pid'));
  if (sshd && ((await cmdline(sshd)) ?? '').includes(join(dir, 'ssh', 'sshd_config'))) found.push({ pid: sshd, what: `sshd ${sshd}` });
  for (const p of found) signal(p.pid, 'SIGTERM');
  for (const p of found) if (!(await waitGone(p.pid, 5_000))) signal(p.pid, 'SIGKILL');
  return found.map((p) => p.what);
}

async function pidIn(file: string): Promise<number | null> {
  const pid = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
  return pid > 0 ? pid : null;
}
