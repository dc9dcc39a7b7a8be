import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { commandLine } from '../src/transport/quote.js';
import { freePort, waitForPort } from './free-port.js';
import { ensureBuilds, type Build } from './nginx-builds.js';
import { ensureStreamModules, type ModuleBuild } from './nginx-modules.js';
import { childrenOf, isAlive, signal, sleep, waitGone } from './processes.js';
import { ensureSystemdRoot, removeTree, requireTools, rootFs, run } from './systemd-root.js';

export type SshResult = { code: number | null; stdout: string; stderr: string };

export type SystemdHost = {
  /** the machine name given to systemd-nspawn (-M) */
  name: string;
  /** the container's root as the control machine sees it (overlay or copy) */
  root: string;
  /** systemd-nspawn's pid on the control machine */
  pid: number;
  sshPort: number;
  httpPort: number;
  /** the lab logs in as root: the packaged nginx runs as root's service */
  user: 'root';
  identityFile: string;
  knownHostsFile: string;
  builds: { old: Build; new: Build };
  /** Debian's stream module for each build, in the container at /opt/hotswap-lab/modules/{old,new}/ (not loaded) */
  modules: { old: ModuleBuild; new: ModuleBuild };
  /** seconds: preparing the root (overlay/copy + files), and from nspawn's start to sshd answering */
  timings: { prepare: number; boot: number };
  /** runs argv in the container over ssh (each argument quoted) */
  ssh(argv: string[], timeoutMs?: number): Promise<SshResult>;
  /** writes /etc/systemd/system/UNIT.d/hotswap-lab.conf in the running container, then daemon-reload */
  dropIn(unit: string, body: string): Promise<void>;
  /** nspawn's console output so far (the container's boot log) */
  output(): string;
  stop(): Promise<void>;
};

export type SystemdHostOptions = {
  /** a scratch folder for this container (keys, overlay layers, log) */
  dir: string;
  /** unit drop-ins written before boot: { 'nginx.service': '[Service]\nPIDFile=\n' } */
  dropIns?: Record<string, string>;
  /** default 2 */
  workers?: number;
};

const BOOT_TIMEOUT_MS = 60_000;
const HALT_TIMEOUT_MS = 20_000;
const NGINX_SITE = '/etc/nginx/sites-enabled/default';
// Periodic jobs that would act in the middle of a test: logrotate signals nginx
// (USR1 through invoke-rc.d), apt would reach for the network.
const MASKED = ['cron.service', 'apt-daily.timer', 'apt-daily-upgrade.timer', 'logrotate.timer', 'man-db.timer', 'dpkg-db-backup.timer', 'e2scrub_all.timer', 'fstrim.timer'];

// Why: a real systemd is the only honest test of how a hot upgrade looks to
// nginx.service (MainPID, PIDFile, ExecStop). Each host boots Debian bookworm with
// systemd-nspawn from an overlay over one cached root, shares the host network, and
// is reached over its own sshd on 127.0.0.1 as root; nginx is Debian's packaged
// unit running the lab's old build.
export async function startSystemdHost(opts: SystemdHostOptions): Promise<SystemdHost> {
  requireTools();
  const dir = resolve(opts.dir);
  await mkdir(dir, { recursive: true });
  const [base, builds, modules] = await Promise.all([ensureSystemdRoot(), ensureBuilds(), ensureStreamModules()]);
  const name = `hotswap-lab-${randomBytes(4).toString('hex')}`;

  const started = Date.now();
  const { root, release } = await layer(rootFs(base), dir);
  const [sshPort, httpPort] = [await freePort(), await freePort()];
  const keys = join(dir, 'ssh');
  await mkdir(keys, { recursive: true });
  const identityFile = join(keys, 'id_ed25519');
  const hostKey = join(keys, 'ssh_host_ed25519_key');
  await keygen(identityFile, 'hotswap-lab-client');
  await keygen(hostKey, 'hotswap-lab-systemd-host');
  try {
    await configure(root, { sshPort, httpPort, identityFile, hostKey, builds, modules, dropIns: opts.dropIns ?? {}, workers: opts.workers ?? 2 });
  } catch (e) {
    await release();
    throw e;
  }
  const knownHostsFile = join(keys, 'known_hosts');
  const hostKeyPublic = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
  await writeFile(knownHostsFile, `[127.0.0.1]:${sshPort} ${hostKeyPublic}\n`);
  const prepare = (Date.now() - started) / 1000;

  // --register=no --keep-unit: nothing to register with (no systemd-machined on the
  // control machine); without them boot stops at "Failed to open system bus".
  const bootStart = Date.now();
  const logPath = join(dir, 'console.log');
  const log = createWriteStream(logPath);
  const child = spawn('systemd-nspawn', ['-D', root, '-M', name, '-b', '--register=no', '--keep-unit', '--console=passive'], {
    cwd: '/', stdio: ['ignore', 'pipe', 'pipe'],
  });
  let console_ = '';
  const collect = (d: Buffer) => {
    console_ = (console_ + d.toString('utf8')).slice(-128_000);
    log.write(d);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const pid = child.pid!;
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (e) => reject(new Error(`cannot run systemd-nspawn: ${e.message}`)));
    child.once('exit', (code, sig) => reject(new Error(`systemd-nspawn exited (${code ?? sig}) during boot:\n${console_.trim().split('\n').slice(-10).join('\n')}`)));
  });
  exited.catch(() => undefined);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // the container's init, as the control machine numbers it: if nspawn must be
    // killed, killing its init ends every process of the container's pid namespace
    const init = await childrenOf(pid);
    if (await isAlive(pid)) {
      signal(pid, 'SIGTERM'); // nspawn asks the container's systemd for an orderly halt
      if (!(await waitGone(pid, HALT_TIMEOUT_MS))) {
        for (const p of [...init, pid]) signal(p, 'SIGKILL');
        await waitGone(pid, 5_000);
      }
    }
    for (const p of init) if (!(await waitGone(p, 5_000))) signal(p, 'SIGKILL');
    log.end();
    await release();
  };

  const host: SystemdHost = {
    name, root, pid, sshPort, httpPort, user: 'root', identityFile, knownHostsFile, builds, modules,
    timings: { prepare, boot: 0 },
    ssh: (argv, timeoutMs) => ssh({ sshPort, identityFile, knownHostsFile }, argv, timeoutMs),
    output: () => console_,
    stop,
    dropIn: async (unit, body) => {
      await writeDropIn(root, unit, body);
      const r = await host.ssh(['systemctl', 'daemon-reload']);
      if (r.code !== 0) throw new Error(`systemctl daemon-reload in the systemd lab host failed: ${r.stderr.trim()}`);
    },
  };
  try {
    await Promise.race([waitForPort(sshPort, BOOT_TIMEOUT_MS), exited]);
    // the port opens when sshd listens; a login also needs the rest of the boot
    await Promise.race([untilLogin(host), exited]);
    host.timings.boot = (Date.now() - bootStart) / 1000;
    await Promise.race([untilActive(host), exited]);
  } catch (e) {
    await stop();
    throw e;
  }
  return host;
}

// Why an overlay: tests must not dirty the cached root, and a copy costs a second
// and 330 MB per container; overlayfs costs nothing. Falls back to a copy where
// overlayfs cannot be mounted.
async function layer(lower: string, dir: string): Promise<{ root: string; release: () => Promise<void> }> {
  const work = await mkdtemp(join(dir, 'rootfs-'));
  const [upper, wdir, merged] = ['upper', 'work', 'merged'].map((d) => join(work, d)) as [string, string, string];
  for (const d of [upper, wdir, merged]) await mkdir(d);
  try {
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${wdir}`, merged]);
    return {
      root: merged,
      release: async () => {
        await run('umount', [merged]).catch(() => run('umount', ['-l', merged]));
        await removeTree(work);
      },
    };
  } catch {
    await run('cp', ['-a', '--reflink=auto', `${lower}/.`, merged], 300_000);
    return { root: merged, release: () => removeTree(work) };
  }
}

type Config = {
  sshPort: number; httpPort: number; identityFile: string; hostKey: string;
  builds: { old: Build; new: Build }; modules: { old: ModuleBuild; new: ModuleBuild }; dropIns: Record<string, string>; workers: number;
};

// Everything is written before boot, into the container's root as the control
// machine sees it. Paths are replaced (rm, then write), never written through: a
// symlink in the image (sites-enabled/default is one) points at the container's
// /, which here would be the control machine's.
async function configure(root: string, c: Config): Promise<void> {
  const put = async (path: string, text: string | Buffer, mode = 0o644) => {
    const at = join(root, path);
    await mkdir(dirname(at), { recursive: true });
    await rm(at, { force: true });
    await writeFile(at, text, { mode });
    await chmod(at, mode);
  };
  await put('/etc/ssh/sshd_config.d/hotswap-lab.conf', [
    `Port ${c.sshPort}`,
    'ListenAddress 127.0.0.1',
    'HostKey /etc/ssh/hotswap_lab_host_ed25519_key',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'MaxSessions 100',
    'MaxStartups 200',
    '',
  ].join('\n'));
  await put('/etc/ssh/hotswap_lab_host_ed25519_key', await readFile(c.hostKey), 0o600);
  await mkdir(join(root, 'root', '.ssh'), { recursive: true, mode: 0o700 });
  await put('/root/.ssh/authorized_keys', await readFile(`${c.identityFile}.pub`), 0o600);

  await put(NGINX_SITE, `# written by hotswap lab/systemd-host.ts
server {
    listen 127.0.0.1:${c.httpPort};
    access_log off;
    location = /healthz { return 200 "ok\\n"; }
    location / { return 200 "hello from the systemd lab\\n"; }
}
`);
  // Debian's nginx.conf says `worker_processes auto`: pin it so tests count workers
  const conf = join(root, 'etc', 'nginx', 'nginx.conf');
  const text = await readFile(conf, 'utf8');
  await put('/etc/nginx/nginx.conf', text.replace(/^worker_processes\s+[^;]*;/m, `worker_processes ${c.workers};`));

  // the packaged unit runs /usr/sbin/nginx: make it the lab's old build
  await rm(join(root, 'usr', 'sbin', 'nginx'), { force: true });
  await copyFile(c.builds.old.path, join(root, 'usr', 'sbin', 'nginx'));
  await chmod(join(root, 'usr', 'sbin', 'nginx'), 0o755);
  // the new build is uploaded by hotswap from the control machine; a copy here
  // only proves it runs with the container's libraries
  await mkdir(join(root, 'opt', 'hotswap-lab'), { recursive: true });
  for (const [k, b] of Object.entries(c.builds)) {
    await rm(join(root, 'opt', 'hotswap-lab', `nginx-${k}`), { force: true });
    await copyFile(b.path, join(root, 'opt', 'hotswap-lab', `nginx-${k}`));
    await chmod(join(root, 'opt', 'hotswap-lab', `nginx-${k}`), 0o755);
  }
  // dynamic modules for each build, for the module part of an upgrade (not loaded by the stock config)
  for (const [k, m] of Object.entries(c.modules)) {
    await put(`/opt/hotswap-lab/modules/${k}/ngx_stream_module.so`, await readFile(m.path));
  }

  for (const unit of MASKED) {
    const at = join(root, 'etc', 'systemd', 'system', unit);
    await rm(at, { force: true });
    await symlink('/dev/null', at); // a link, not followed: /dev/null here is only its text
  }
  for (const [unit, body] of Object.entries(c.dropIns)) await writeDropIn(root, unit, body);
}

async function writeDropIn(root: string, unit: string, body: string): Promise<void> {
  if (!/^[\w@.-]+\.service$/.test(unit)) throw new Error(`drop-in for ${unit}: not a plain service unit name`);
  const at = join(root, 'etc', 'systemd', 'system', `${unit}.d`, 'hotswap-lab.conf');
  await mkdir(dirname(at), { recursive: true });
  await rm(at, { force: true });
  await writeFile(at, body, { mode: 0o644 });
}

async function untilLogin(h: SystemdHost): Promise<void> {
  const deadline = Date.now() + BOOT_TIMEOUT_MS;
  let last = '';
  for (;;) {
    const r = await h.ssh(['true'], 10_000).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
    if (r.code === 0) return;
    last = r.stderr.trim();
    if (Date.now() >= deadline) throw new Error(`cannot log in to the systemd lab host over ssh after ${BOOT_TIMEOUT_MS} ms: ${last}`);
    await sleep(100);
  }
}

// Why: sshd may answer before nginx.service finished starting.
async function untilActive(h: SystemdHost): Promise<void> {
  const deadline = Date.now() + BOOT_TIMEOUT_MS;
  for (;;) {
    const r = await h.ssh(['systemctl', 'is-active', 'nginx.service']);
    const state = r.stdout.trim();
    if (state === 'active') return;
    if (state === 'failed' || Date.now() >= deadline) {
      const why = await h.ssh(['journalctl', '--no-pager', '-n', '20', '-u', 'nginx.service']);
      throw new Error(`nginx.service in the systemd lab host is ${state || 'unknown'}:\n${why.stdout.trim()}`);
    }
    await sleep(100);
  }
}

function ssh(c: { sshPort: number; identityFile: string; knownHostsFile: string }, argv: string[], timeoutMs = 60_000): Promise<SshResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('ssh', [
      '-q', '-p', String(c.sshPort), '-i', c.identityFile, '-F', '/dev/null',
      '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=yes',
      '-o', `UserKnownHostsFile=${c.knownHostsFile}`, '-o', 'ConnectTimeout=5',
      'root@127.0.0.1', '--', commandLine(argv),
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'ssh is missing: apt-get install -y openssh-client' : e.message));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

async function keygen(file: string, comment: string): Promise<void> {
  await rm(file, { force: true });
  await rm(`${file}.pub`, { force: true });
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
}
