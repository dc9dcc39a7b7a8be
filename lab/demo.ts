// npm run demo: build the local lab, upgrade it with hotswap under load, show
// the recap and the failed request count, tear everything down by pid.
import { spawn, execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { startLabFleet, type LabFleet } from './fleet.js';
import { runLoad } from './load.js';
import { repoRoot } from './nginx-builds.js';
import { ensurePackages, LAB_PACKAGES } from './packages.js';

const LAB = '/tmp/hotswap-lab';
const PLAYBOOK = join(repoRoot(), 'examples', 'lab', 'fleet.yaml');
function hotswap(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot(), 'dist', 'src', 'cli', 'start.cjs'), ...args], { stdio: 'inherit' });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

async function main(): Promise<number> {
  if (userInfo().uid !== 0) {
    console.error(`the demo needs root: it creates the user hotswap-lab and installs ${LAB_PACKAGES.join(', ')} when missing. Run: sudo npm run demo`);
    return 2;
  }
  ensurePackages();

  console.log('starting the lab: 3 nginx hosts on the old build behind a private sshd on 127.0.0.1:22022 ...');
  rmSync(LAB, { recursive: true, force: true });
  let fleet: LabFleet | undefined;
  try {
    fleet = await startLabFleet({ dir: LAB, hosts: 3, ports: [28081, 28082, 28083], sshdPort: 22022 });
    for (const h of fleet.hosts) console.log(`  ${h.name}: nginx master ${await h.masterPid()} on 127.0.0.1:${h.port}, ${fleet.builds.old.version}`);
    console.log(`\n$ hotswap validate examples/lab/fleet.yaml`);
    await hotswap(['validate', PLAYBOOK]);
    console.log(`\n$ hotswap apply examples/lab/fleet.yaml --yes   (with a load of new connections on lab-1)`);
    const load = runLoad({ url: `http://127.0.0.1:${fleet.hosts[0].port}/`, concurrency: 8, durationMs: 60_000, maxRequests: 1_000_000, keepAlive: false });
    const code = await hotswap(['apply', PLAYBOOK, '--yes']);
    load.controller.abort();
    const result = await load.done;
    console.log(`\nload on lab-1 during the upgrade: ${result.ok} requests served, failed requests: ${result.failed}`);
    for (const h of fleet.hosts) console.log(`  ${h.name}: nginx master ${await h.masterPid()} now runs ${execFileSync('sha256sum', [`/proc/${await h.masterPid()}/exe`], { encoding: 'utf8' }).slice(0, 12)}… (new build ${fleet.builds.new.sha256.slice(0, 12)}…)`);
    return code || (result.failed ? 1 : 0);
  } finally {
    console.log('\nstopping the lab (by pid) ...');
    await fleet?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`demo failed: ${err.message}`);
    process.exit(1);
  },
);
