// npm run demo: build the local lab, upgrade it with hotswap under load, say
// host by host whether it was upgraded, then stop everything by pid and remove
// what the demo made (or say what it left and why). Exit 0 only when every
// host runs the new build and no request failed.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { claimLab } from './demo-lab.js';
import { hostOutcome, plain, type ReportedHost } from './demo-outcome.js';
import { startLabFleet, type LabFleet } from './fleet.js';
import { LAB_USER, labUserExists, removeLabUser } from './lab-user.js';
import { runLoad, type LoadResult } from './load.js';
import { repoRoot } from './nginx-builds.js';
import { ensurePackages, LAB_PACKAGES } from './packages.js';

const LAB = '/tmp/hotswap-lab';
const HTTP_PORTS = [28081, 28082, 28083];
const SSHD_PORT = 22022;
const PLAYBOOK = join(repoRoot(), 'examples', 'lab', 'fleet.yaml');
const REPORT = join(LAB, 'run.json');

let interrupted: NodeJS.Signals | undefined;
let child: ReturnType<typeof spawn> | undefined;

function hotswap(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    // cwd "/": nothing hotswap does may depend on where the demo was started from
    child = spawn(process.execPath, [join(repoRoot(), 'dist', 'hotswap.cjs'), ...args], { stdio: 'inherit', cwd: '/' });
    child.once('error', (e) => { console.error(`cannot run hotswap: ${e.message}`); resolve(1); });
    child.once('close', (code, sig) => { child = undefined; resolve(code ?? (sig ? 130 : 1)); });
  });
}

const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');
const checkInterrupt = () => { if (interrupted) throw new Error(`interrupted (${interrupted})`); };

// Why: Ctrl-C reaches hotswap too (same process group) and it brings its hosts to
// a serving state; the demo waits for that, then stops and removes its lab.
// A SIGTERM sent to the demo alone is passed on to hotswap.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = sig;
    console.error(`\n${sig}: stopping; the lab is torn down before the demo exits`);
    if (sig !== 'SIGINT' && child?.pid) child.kill(sig);
  });
}

/** Pids whose /proc/PID/FILE matches `test` (this process excluded). */
function pidsWhere(file: 'comm' | 'cmdline', test: (text: string) => boolean): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid && (() => {
    try { return test(readFileSync(`/proc/${p}/${file}`, 'latin1')); } catch { return false; }
  })()).map(Number);
}
/** Whether /run/sshd is in use: any sshd process on the machine (the system's or a test's). */
const sshdRuns = () => pidsWhere('comm', (t) => t.trim() === 'sshd').length > 0;
/** The lab's processes (nginx masters and workers name their prefix, sshd its config). */
const labPids = () => pidsWhere('cmdline', (t) => t.includes(`${LAB}/`));

async function main(): Promise<number> {
  if (userInfo().uid !== 0) {
    console.error(`the demo needs root: it creates the user ${LAB_USER} and installs ${LAB_PACKAGES.join(', ')} when missing. Run: sudo npm run demo`);
    return 2;
  }
  // what was there before, so that only what the demo made is removed
  const installed = ensurePackages();
  const userExisted = await labUserExists();
  const privsepExisted = existsSync('/run/sshd');
  const buildsExisted = existsSync(join(repoRoot(), '.lab', 'builds', 'new'));
  for (const line of await claimLab(LAB, [SSHD_PORT, ...HTTP_PORTS])) console.log(line);

  let fleet: LabFleet | undefined;
  const outcomes: { upgraded: boolean; line: string }[] = [];
  let load: LoadResult | undefined;
  let verdict: string[] = [];
  let applied = false;
  try {
    console.log(`starting the lab: 3 nginx hosts on the old build behind a private sshd on 127.0.0.1:${SSHD_PORT} ...`);
    fleet = await startLabFleet({ dir: LAB, hosts: 3, ports: HTTP_PORTS, sshdPort: SSHD_PORT });
    for (const h of fleet.hosts) console.log(`  ${h.name}: nginx master ${await h.masterPid()} on 127.0.0.1:${h.port}, ${fleet.builds.old.version}`);
    checkInterrupt();

    console.log(`\n$ hotswap validate examples/lab/fleet.yaml`);
    const valid = await hotswap(['validate', PLAYBOOK]);
    checkInterrupt();
    let noReport = `hotswap validate exited with code ${valid}: apply did not run`;
    if (valid === 0) {
      console.log(`\n$ hotswap apply examples/lab/fleet.yaml --yes --report ${REPORT}   (with a load of new connections on lab-1)`);
      const run = runLoad({ url: `http://127.0.0.1:${fleet.hosts[0].port}/`, concurrency: 8, durationMs: 60_000, maxRequests: 1_000_000, keepAlive: false });
      applied = true;
      const code = await hotswap(['apply', PLAYBOOK, '--yes', '--report', REPORT]);
      run.controller.abort();
      load = await run.done;
      noReport = `hotswap apply exited with code ${code} and reported nothing for it`;
    }

    const report = JSON.parse(await readFile(REPORT, 'utf8').catch(() => '{}')) as { hosts?: ReportedHost[] };
    const builds = { old: fleet.builds.old.sha256, new: fleet.builds.new.sha256 };
    console.log('');
    for (const h of fleet.hosts) {
      const pid = await h.masterPid();
      const running = pid === null ? null : await sha256(`/proc/${pid}/exe`).catch(() => null);
      const o = hostOutcome(h.name, report.hosts?.find((r) => r.host === h.name), running, builds, noReport);
      outcomes.push(o);
      console.log(o.line);
    }
    if (load) {
      const causes = Object.entries(load.errors).map(([k, n]) => `${plain(k, 60)} ${n}`).join(', ');
      console.log(`load on lab-1 during the upgrade: ${load.ok} requests served, failed requests: ${load.failed}${causes ? ` (${causes})` : ''}`);
    }
    const up = outcomes.filter((o) => o.upgraded).length;
    verdict = up === outcomes.length && load?.failed === 0
      ? [`demo passed: ${up} of ${outcomes.length} hosts upgraded to the new build, no request failed`]
      : [`demo FAILED: ${up} of ${outcomes.length} hosts upgraded${load && load.failed ? `, ${load.failed} requests failed` : ''}${interrupted ? ` (interrupted by ${interrupted})` : ''} (see the lines above)`];
  } catch (err) {
    verdict = [`demo FAILED: ${(err as Error).message}`, ...(outcomes.length ? [] : [applied ? 'which hosts were upgraded is unknown' : 'no host was upgraded: apply did not run'])];
  } finally {
    console.log(`\nstopping the lab (by pid) and removing what the demo made ...`);
    const left = await tearDown(fleet, { userExisted, privsepExisted });
    for (const l of left) console.log(`  ${l}`);
    if (left.some((l) => l.startsWith('LEFT RUNNING'))) {
      const stuck = 'the lab could not be stopped entirely (see above)';
      verdict = verdict[0]?.startsWith('demo passed') ? [`demo FAILED: the hosts were upgraded, but ${stuck}`] : [...verdict, stuck];
    }
    if (installed.length) console.log(`  left installed: the Debian packages ${installed.join(' ')} (the demo installed them; the tests need them too; apt-get remove ${installed.join(' ')} takes them away)`);
    if (!buildsExisted) console.log(`  kept: ${join(repoRoot(), '.lab', 'builds')} (the two nginx builds it fetched; the next run and the tests reuse them)`);
  }
  console.log(`\n${verdict.join('\n')}`);
  if (interrupted) return 130;
  return verdict[0].startsWith('demo passed') ? 0 : 1;
}

// Everything the demo made, in reverse order; returns one line per thing removed or left.
async function tearDown(fleet: LabFleet | undefined, before: { userExisted: boolean; privsepExisted: boolean }): Promise<string[]> {
  const said: string[] = [];
  await fleet?.stop().catch((err: Error) => said.push(`stopping the lab: ${err.message}`));
  const running = labPids();
  if (running.length) {
    said.push(`LEFT RUNNING: pids ${running.join(', ')} still run from ${LAB}; left ${LAB} for them (their pid files are in ${LAB}/hosts/*/logs and ${LAB}/ssh/sshd.pid)`);
  } else {
    if (fleet) said.push('stopped the 3 nginx hosts and the sshd');
    await rm(LAB, { recursive: true, force: true }).catch(() => undefined);
    said.push(existsSync(LAB) ? `LEFT ${LAB}: it could not be removed` : `removed ${LAB} (the hosts, the ssh keys, the report)`);
  }
  if (!before.userExisted && (await labUserExists())) {
    const why = await removeLabUser();
    said.push(why ? `left the user ${LAB_USER} the demo created: ${why}; remove it later with userdel --remove ${LAB_USER}` : `removed the user ${LAB_USER} and its home (the demo created them)`);
  } else if (before.userExisted) {
    said.push(`kept the user ${LAB_USER}: it existed before the demo (the tests make it too)`);
  }
  if (!before.privsepExisted && existsSync('/run/sshd')) {
    if (sshdRuns()) said.push('left /run/sshd (sshd\'s empty privilege-separation folder, which the demo made): another sshd runs and needs it');
    else await rmdir('/run/sshd').then(() => said.push('removed /run/sshd (the demo made it for its sshd)'), (e: Error) => said.push(`left /run/sshd: ${e.message}`));
  }
  return said;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`demo FAILED: ${err.message}`);
    process.exit(1);
  },
);
