import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from './nginx-builds.js';
import { aptMirror } from './systemd-mirror.js';

/** Debian packages the control machine needs for the systemd lab (lab/packages.ts installs them). */
export const SYSTEMD_LAB_PACKAGES = ['systemd-container', 'debootstrap'] as const;

/** What the container's root holds beside Debian's required set. */
export const ROOT_PACKAGES = ['systemd', 'dbus', 'nginx-light', 'openssh-server', 'procps', 'curl', 'sudo'] as const;
export const SUITE = 'bookworm';

const MARKER = '.hotswap-lab-root.json';
const BUILD_TIMEOUT_MS = 900_000;

export type SystemdRoot = { dir: string; mirror: string; buildSeconds: number; builtAt: string };

let inFlight: Promise<SystemdRoot> | null = null;

// Why: debootstrap takes 70–100 s, so the root is built once and reused by every
// container (each boots from an overlay over it). It is built in a temp folder and
// renamed into place with a marker inside, so a half-built root is never booted.
export function ensureSystemdRoot(cacheDir = join(repoRoot(), '.lab', 'systemd')): Promise<SystemdRoot> {
  if (!inFlight) {
    inFlight = build(cacheDir);
    inFlight.catch(() => (inFlight = null));
  }
  return inFlight;
}

async function build(cacheDir: string): Promise<SystemdRoot> {
  const dir = join(cacheDir, SUITE);
  const ready = await readMarker(dir);
  if (ready) return ready;
  requireTools();
  await mkdir(cacheDir, { recursive: true });
  await removeStale(cacheDir, dir);
  const mirror = aptMirror(SUITE);
  const tmp = await mkdtemp(join(cacheDir, `.build-${process.pid}-`));
  const started = Date.now();
  console.error(`lab: building the systemd root for the container lab with debootstrap from ${mirror} (about 1.5 min, once)`);
  try {
    await run('debootstrap', [`--include=${ROOT_PACKAGES.join(',')}`, SUITE, join(tmp, 'root'), mirror], BUILD_TIMEOUT_MS);
    const marker: SystemdRoot = { dir, mirror, buildSeconds: (Date.now() - started) / 1000, builtAt: new Date().toISOString() };
    await writeFile(join(tmp, MARKER), JSON.stringify(marker, null, 2) + '\n');
    await rename(tmp, dir).catch(async (e) => {
      // another process finished first: use its root
      if (!(await readMarker(dir))) throw e;
    });
  } finally {
    if (existsSync(tmp)) await removeTree(tmp);
  }
  const done = await readMarker(dir);
  if (!done) throw new Error(`the systemd root at ${dir} has no ${MARKER} after building it`);
  return done;
}

/** The root's filesystem (what containers boot), inside the cached folder. */
export function rootFs(root: SystemdRoot): string {
  return join(root.dir, 'root');
}

async function readMarker(dir: string): Promise<SystemdRoot | null> {
  const text = await readFile(join(dir, MARKER), 'utf8').catch(() => null);
  if (text === null || !existsSync(join(dir, 'root', 'usr', 'lib', 'systemd', 'systemd'))) return null;
  return { ...(JSON.parse(text) as SystemdRoot), dir };
}

// A build killed half-way leaves `.build-PID-*` (maybe with /proc mounted inside):
// remove those whose process is gone, and a final folder without its marker.
async function removeStale(cacheDir: string, dir: string): Promise<void> {
  for (const name of await readdir(cacheDir)) {
    const m = /^\.build-(\d+)-/.exec(name);
    if (m && !pidAlive(Number(m[1]))) await removeTree(join(cacheDir, name));
  }
  if (existsSync(dir) && !(await readMarker(dir))) await removeTree(dir);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Why --one-file-system and the umounts: debootstrap mounts /proc and /sys inside
// its target while it works; a recursive rm must never walk into them.
export async function removeTree(dir: string): Promise<void> {
  for (const sub of ['root/proc', 'root/sys', 'root/dev/pts', 'root/dev', 'proc', 'sys', 'dev/pts', 'dev']) {
    await run('umount', ['-l', join(dir, sub)], 10_000).catch(() => undefined);
  }
  await run('rm', ['-rf', '--one-file-system', dir], 300_000);
}

export function requireTools(): void {
  if (process.getuid?.() !== 0) throw new Error('the systemd lab needs root (systemd-nspawn, debootstrap and mount do): run the tests as root');
  const missing = [['debootstrap', '/usr/sbin/debootstrap'], ['systemd-container', '/usr/bin/systemd-nspawn']]
    .filter(([, path]) => !existsSync(path!)).map(([pkg]) => pkg!);
  if (missing.length) {
    throw new Error(`the systemd lab needs the Debian packages ${missing.join(' ')} (systemd-nspawn, debootstrap): apt-get install -y ${SYSTEMD_LAB_PACKAGES.join(' ')}`);
  }
}

export function run(cmd: string, args: string[], timeout = 120_000, cwd = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error(`${cmd} is missing (needed by the lab for: ${cmd} ${args[0] ?? ''})`));
      const tail = `${stderr}\n${stdout}`.split('\n').map((l) => l.trim()).filter(Boolean).slice(-4).join(' / ');
      reject(new Error(`${cmd} ${args.join(' ')} failed: ${tail || err.message}`));
    });
  });
}
