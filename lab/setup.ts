// `node dist/lab/setup.js`: installs what the lab needs (run by npm test and CI).
import { ensurePackages } from './packages.js';
import { ensureBuilds } from './nginx-builds.js';

try {
  ensurePackages();
  const builds = await ensureBuilds();
  console.log(`lab ready: nginx ${builds.old.version} and ${builds.new.version}`);
} catch (err) {
  console.error(`lab setup failed: ${(err as Error).message}`);
  process.exit(1);
}
