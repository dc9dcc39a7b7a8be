import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBuilds, repoRoot } from './nginx-builds.js';
import { run } from './systemd-root.js';

export type ModuleBuild = { version: string; /** the .so file */ path: string; /** the folder load_module paths are relative to */ dir: string };

/** Debian's stream module package: built from the same source as nginx, one per nginx build. */
export const STREAM_PACKAGE = 'libnginx-mod-stream';
const SO = join('usr', 'lib', 'nginx', 'modules', 'ngx_stream_module.so');

// Why: dynamic modules must be upgraded with the binary; Debian ships
// libnginx-mod-stream for both lab builds, a real module to test that with.
// Fetched like the builds (apt-get download of the exact version), cached in
// .lab/builds/modules/<version>/.
export async function ensureStreamModules(cacheDir = join(repoRoot(), '.lab', 'builds', 'modules')): Promise<{ old: ModuleBuild; new: ModuleBuild }> {
  const builds = await ensureBuilds();
  await mkdir(cacheDir, { recursive: true });
  return { old: await ensureModule(cacheDir, builds.old.version), new: await ensureModule(cacheDir, builds.new.version) };
}

async function ensureModule(cacheDir: string, version: string): Promise<ModuleBuild> {
  const dir = join(cacheDir, version);
  const path = join(dir, SO);
  if (!existsSync(path)) {
    const deb = (await findDeb(cacheDir, version)) ?? (await download(cacheDir, version));
    const tmp = await mkdtemp(join(cacheDir, `.extract-${version}-`));
    try {
      await run('dpkg', ['-x', deb, tmp]);
      if (!existsSync(join(tmp, SO))) throw new Error(`${deb} holds no ${SO}`);
      if (!existsSync(path)) await rename(tmp, dir).catch((e) => { if (!existsSync(path)) throw e; });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  return { version, path, dir: join(dir, 'usr', 'lib', 'nginx', 'modules') };
}

async function download(cacheDir: string, version: string): Promise<string> {
  const spec = `${STREAM_PACKAGE}=${version}`;
  await run('apt-get', ['download', spec], 120_000, cacheDir).catch((e: Error) => {
    throw new Error(`${e.message} — the lab needs apt sources for Debian bookworm and bookworm-security (run \`apt-get update\`)`);
  });
  const deb = await findDeb(cacheDir, version);
  if (!deb) throw new Error(`apt-get download ${spec} reported success but no ${STREAM_PACKAGE}_${version}_*.deb is in ${cacheDir}`);
  return deb;
}

async function findDeb(cacheDir: string, version: string): Promise<string | null> {
  const prefix = `${STREAM_PACKAGE}_${version.replace(/:/g, '%3a')}_`;
  const name = (await readdir(cacheDir)).find((f) => f.startsWith(prefix) && f.endsWith('.deb'));
  return name ? join(cacheDir, name) : null;
}
