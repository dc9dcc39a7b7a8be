import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Build = { path: string; sha256: string; version: string };

/** The two Debian bookworm nginx builds the lab upgrades between. */
export const OLD_VERSION = '1.22.1-9+deb12u9';
export const NEW_VERSION = '1.22.1-9+deb12u11';

/** Shared libraries Debian's nginx binary links against (installed with apt-get). */
export const NGINX_RUNTIME_PACKAGES = ['libpcre2-8-0', 'libssl3', 'zlib1g', 'libcrypt1'] as const;

const inFlight = new Map<string, Promise<{ old: Build; new: Build }>>();

// Why: every lab test and the demo need the same two real binaries; fetching them
// through apt once and caching them keeps runs fast and offline after the first.
export function ensureBuilds(cacheDir = join(repoRoot(), '.lab', 'builds')): Promise<{ old: Build; new: Build }> {
  let p = inFlight.get(cacheDir);
  if (!p) {
    p = (async () => {
      await mkdir(cacheDir, { recursive: true });
      const old = await ensureBuild(cacheDir, OLD_VERSION);
      const builds = { old, new: await ensureBuild(cacheDir, await newVersion(cacheDir)) };
      // stable names for playbooks (examples/lab): .lab/builds/old and .lab/builds/new
      for (const [name, b] of Object.entries(builds)) await link(cacheDir, name, b.version);
      return builds;
    })();
    p.catch(() => inFlight.delete(cacheDir));
    inFlight.set(cacheDir, p);
  }
  return p;
}

// Why: bookworm-security lists only its newest nginx, so NEW_VERSION leaves the
// apt sources once Debian ships the next fix. The lab then upgrades to the newest
// build apt offers, as long as it is newer than OLD_VERSION, and says so.
async function newVersion(cacheDir: string): Promise<string> {
  if (existsSync(join(cacheDir, NEW_VERSION, 'usr', 'sbin', 'nginx')) || (await findDeb(cacheDir, NEW_VERSION))) return NEW_VERSION;
  // the one an earlier run settled on
  const linked = await readlink(join(cacheDir, 'new')).catch(() => null);
  if (linked && existsSync(join(cacheDir, linked, 'usr', 'sbin', 'nginx'))) return linked;
  // madison lists every version the sources offer, newest first
  const offered = (await run('apt-cache', ['madison', 'nginx'], cacheDir, 'apt-cache madison nginx'))
    .split('\n').map((l) => l.split('|')[1]?.trim()).filter((v): v is string => !!v);
  if (offered.includes(NEW_VERSION)) return NEW_VERSION;
  // Debian bookworm's own builds of this nginx only (not nginx.org's, not a later release)
  const candidate = offered.find((v) => v.startsWith('1.22.1-9+deb12u'));
  const newer = candidate !== undefined &&
    (await run('dpkg', ['--compare-versions', candidate, 'gt', OLD_VERSION], cacheDir, 'dpkg --compare-versions').then(() => true, () => false));
  if (!newer) throw new Error(`apt offers neither nginx ${NEW_VERSION} nor any bookworm nginx 1.22.1-9+deb12u* newer than ${OLD_VERSION} (offered: ${offered.join(', ') || 'none'}) — the lab needs apt sources for Debian bookworm and bookworm-security (run \`apt-get update\`)`);
  console.error(`lab: nginx ${NEW_VERSION} is no longer in the apt sources; the new build is ${candidate}, the newest apt offers`);
  return candidate;
}

async function link(cacheDir: string, name: string, version: string): Promise<void> {
  const at = join(cacheDir, name);
  if ((await readlink(at).catch(() => null)) === version) return;
  const tmp = join(cacheDir, `.${name}-${process.pid}`);
  await rm(tmp, { force: true });
  await symlink(version, tmp);
  await rename(tmp, at);
}

async function ensureBuild(cacheDir: string, version: string): Promise<Build> {
  const dir = join(cacheDir, version);
  const path = join(dir, 'usr', 'sbin', 'nginx');
  if (!existsSync(path)) {
    const deb = await download(cacheDir, version);
    // Extract beside the final folder, then rename: a concurrent run never sees half a tree.
    const tmp = await mkdtemp(join(cacheDir, `.extract-${version}-`));
    try {
      await run('dpkg', ['-x', deb, tmp], cacheDir, `dpkg -x ${deb}`);
      if (!existsSync(path)) await rename(tmp, dir).catch((e) => { if (!existsSync(path)) throw e; });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  await checkRuns(path, version);
  return { path, sha256: sha256(await readFile(path)), version };
}

async function download(cacheDir: string, version: string): Promise<string> {
  const existing = await findDeb(cacheDir, version);
  if (existing) return existing;
  await run('apt-get', ['download', `nginx=${version}`], cacheDir, `apt-get download nginx=${version}`);
  const deb = await findDeb(cacheDir, version);
  if (!deb) throw new Error(`apt-get download nginx=${version} reported success but no nginx_${version}_*.deb is in ${cacheDir}`);
  return deb;
}

async function findDeb(cacheDir: string, version: string): Promise<string | null> {
  const prefix = `nginx_${version.replace(/:/g, '%3a')}_`;
  const name = (await readdir(cacheDir)).find((f) => f.startsWith(prefix) && f.endsWith('.deb'));
  return name ? join(cacheDir, name) : null;
}

async function checkRuns(path: string, version: string): Promise<void> {
  try {
    await run(path, ['-v'], dirname(path), `${path} -v`);
  } catch (e) {
    throw new Error(
      `nginx ${version} at ${path} does not run (${(e as Error).message}); ` +
        `it needs the packages ${NGINX_RUNTIME_PACKAGES.join(' ')}: apt-get install -y ${NGINX_RUNTIME_PACKAGES.join(' ')}`,
    );
  }
}

const INSTALL_HINT: Record<string, string> = {
  'apt-cache': 'apt-cache is missing: the lab needs a Debian/Ubuntu system with the "apt" package (it finds nginx builds with `apt-cache`)',
  'apt-get': 'apt-get is missing: the lab needs a Debian/Ubuntu system with the "apt" package (it downloads nginx with `apt-get download`)',
  dpkg: 'dpkg is missing: the lab needs the "dpkg" package to unpack nginx (`apt-get install -y dpkg`)',
};

function run(cmd: string, args: string[], cwd: string, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(new Error(INSTALL_HINT[cmd] ?? `${cmd} is missing (needed for: ${what})`));
      }
      const detail = stderr.split('\n').filter((l) => l && !/unsandboxed as root/.test(l)).slice(-3).join(' / ');
      const hint = cmd === 'apt-get'
        ? ` — the lab needs apt sources for Debian bookworm and bookworm-security (run \`apt-get update\`; old point releases live on snapshot.debian.org)`
        : '';
      reject(new Error(`${what} failed: ${detail || err.message}${hint}`));
    });
  });
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The repository root: the nearest folder above this file with hotswap's package.json (tsx or dist/lab). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'hotswap') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find hotswap's package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}
