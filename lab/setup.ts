// `node dist/lab/setup.js`: installs what the tests need (run by npm test and CI):
// Debian packages, the two nginx builds, their stream modules and the cached
// systemd root (built once, about 2 minutes; reused after that).
import { ensurePackages, TEST_PACKAGES } from './packages.js';
import { ensureBuilds } from './nginx-builds.js';
import { ensureStreamModules } from './nginx-modules.js';
import { ensureSystemdRoot } from './systemd-root.js';

try {
  ensurePackages(TEST_PACKAGES);
  const builds = await ensureBuilds();
  await ensureStreamModules();
  const started = Date.now();
  const root = await ensureSystemdRoot();
  const took = (Date.now() - started) / 1000;
  console.log(`lab ready: nginx ${builds.old.version} and ${builds.new.version}; systemd root ${root.dir}${took > 5 ? ` (built in ${took.toFixed(0)} s)` : ''}`);
} catch (err) {
  console.error(`lab setup failed: ${(err as Error).message}`);
  process.exit(1);
}
