// npm run bench: how fast and how safe a fleet upgrade with hotswap is, next to
// the same upgrade by an Ansible playbook, on this machine, in one run.
//
// Every measurement runs against a fresh local lab fleet (real nginx hosts on
// Debian's old build behind a private sshd on 127.0.0.1) that is stopped by pid
// afterwards. Ratios are taken against baselines measured in the same run
// (Ansible and the floor, bench/floor.ts, interleaved with hotswap, `node -e 0`,
// one plain `ssh host true`; at 1 and 10 hosts, the same apply with
// `ssh.client: openssh`), because shared machines are noisy. Traffic only goes to 127.0.0.1 and every
// load is bounded in time and count.
//
//   npm run bench                 the full benchmark (about 5-8 minutes), writes bench/RESULTS.md
//   npm run bench -- --quick      one run per size (a smoke test; RESULTS.md only with --out)
//   npm run bench -- --no-ansible skip the Ansible reference
//   npm run bench -- --strict     exit 1 when a target is missed
//   npm run bench -- --sizes 1,10 --runs 2   other fleet sizes / runs per size (RESULTS.md only with --out)
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensurePackages, LAB_PACKAGES } from '../lab/packages.js';
import { ensureBuilds } from '../lab/nginx-builds.js';
import { ansibleRun, CLI, floorRun, hotswapRun, isInterrupted, labFleet, ROOT, sshTrue, stopAllFleets, type AnsibleRun, type FloorRun, type HotswapRun, type LoadMode } from './runs.js';
import { renderConsole, renderMarkdown, type Results, type StartupRow } from './report.js';
import { summarizeProfile } from './profile.js';
import { unitCosts } from './unit-costs.js';
import { machine, measure, median, stopMeasured, which } from './util.js';

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    'no-ansible': { type: 'boolean' },
    strict: { type: 'boolean' },
    out: { type: 'string' },
    sizes: { type: 'string' },
    runs: { type: 'string' },
  },
});

/** sizes where ssh.client: openssh is measured beside the built-in client */
const OPENSSH_SIZES = new Set([1, 10]);
const SIZES = (opt.sizes ?? '1,10,50').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
const RUNS: Record<number, number> = Object.fromEntries(SIZES.map((n) => [n, Number(opt.runs) || (opt.quick ? 1 : n >= 50 ? 3 : 5)]));
/** Ansible for 1 and 10 hosts only: 50 would take minutes per run. */
const ANSIBLE_SIZES = new Set([1, 10]);
const STARTUP_RUNS = opt.quick ? 3 : 10;
const LOADS: { hosts: number; mode: LoadMode; concurrency: number }[] = [
  { hosts: 1, mode: 'new connections', concurrency: 4 },
  { hosts: 1, mode: 'keep-alive', concurrency: 4 },
  { hosts: 10, mode: 'new connections', concurrency: 2 },
  { hosts: 10, mode: 'keep-alive', concurrency: 2 },
  { hosts: 50, mode: 'new connections', concurrency: 1 },
  { hosts: 50, mode: 'keep-alive', concurrency: 1 },
];

/** the benchmark's scratch folder (lab fleets, reports, profiles): removed at the end */
let work: string | undefined;

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function startup(work: string): Promise<{ rows: StartupRow[]; validateProfile: ReturnType<typeof summarizeProfile> }> {
  // a 10-host playbook to validate, and a live sshd for the `ssh true` floor
  const { fleet, stop } = await labFleet(join(work, 'startup'), 10, false);
  try {
    const playbook = await fleet.writePlaybook(join(work, 'startup', 'playbook.yaml'));
    const cmds: { name: string; run: () => ReturnType<typeof measure> }[] = [
      { name: '`node -e 0` (baseline)', run: () => measure([process.execPath, '-e', '0'], { timeFile: join(work, 't.txt') }) },
      { name: '`hotswap --version`', run: () => measure([process.execPath, CLI, '--version'], { timeFile: join(work, 't.txt') }) },
      { name: '`hotswap validate` (10 hosts)', run: () => measure([process.execPath, CLI, 'validate', playbook], { timeFile: join(work, 't.txt') }) },
      { name: '`ssh host true` (one OpenSSH connection, baseline)', run: () => sshTrue(fleet) },
    ];
    const wall = cmds.map(() => [] as number[]);
    const rss = cmds.map(() => [] as number[]);
    const cpu = cmds.map(() => [] as number[]);
    // interleaved, so that a noisy moment hits every command alike
    for (let i = 0; i < STARTUP_RUNS; i++) {
      for (const [k, c] of cmds.entries()) {
        const m = await c.run();
        if (m.code !== 0) throw new Error(`${c.name} exited ${m.code}: ${m.stderr.trim()}`);
        wall[k].push(m.wallMs);
        rss[k].push(m.maxRssKb);
        cpu[k].push((m.userS + m.sysS) * 1000);
      }
    }
    const profDir = join(work, 'validate-profile');
    await measure([process.execPath, '--cpu-prof', `--cpu-prof-dir=${profDir}`, CLI, 'validate', playbook]);
    return {
      rows: cmds.map((c, k) => ({ name: c.name, wallMs: median(wall[k]), cpuMs: median(cpu[k]), maxRssKb: median(rss[k]), runs: wall[k].length })),
      validateProfile: summarizeProfile(profDir),
    };
  } finally {
    await stop();
  }
}

async function main(): Promise<number> {
  if (userInfo().uid !== 0) {
    log('the benchmark needs root, as `npm run demo` does: it creates the user hotswap-lab, runs a private sshd and installs the lab packages when missing. Run: sudo npm run bench');
    return 2;
  }
  // sshd, sudo, nginx's libraries, GNU time (CPU and peak memory) and the
  // Ansible reference: installed from Debian when missing
  ensurePackages([...LAB_PACKAGES, 'time', ...(opt['no-ansible'] ? [] : ['ansible-core'])]);
  const builds = await ensureBuilds();
  const ansible = opt['no-ansible'] ? null : which('ansible-playbook');
  const ansibleNote = opt['no-ansible']
    ? 'Ansible skipped: --no-ansible'
    : ansible ? null : 'Ansible skipped: ansible-playbook is not installed (Debian: apt-get install -y ansible-core)';
  if (ansibleNote) log(ansibleNote);

  const started = Date.now();
  work = mkdtempSync(join(tmpdir(), 'hotswap-bench-'));
  chmodSync(work, 0o755); // the lab user must reach the hosts' prefixes inside
  const results: Results = {
    machine: machine(ansible, `${builds.old.version} -> ${builds.new.version}`),
    runs: RUNS,
    hotswap: new Map(),
    openssh: new Map(),
    ansible: new Map(),
    floor: new Map(),
    loads: [],
    profiles: [],
    startup: [],
    validateProfile: null,
    units: [],
    ansibleNote,
    problems: [],
    totalS: 0,
    loadavgEnd: '',
  };
  const keep = (r: HotswapRun | AnsibleRun | FloorRun) => {
    results.problems.push(...r.problems);
    for (const p of r.problems) log(`  PROBLEM: ${p}`);
  };
  try {
    log(`work dir ${work}; hotswap ${CLI}`);
    for (const hosts of SIZES) {
      results.hotswap.set(hosts, []);
      results.floor.set(hosts, []);
      if (OPENSSH_SIZES.has(hosts)) results.openssh.set(hosts, []);
      const withAnsible = ansible && ANSIBLE_SIZES.has(hosts);
      if (withAnsible) results.ansible.set(hosts, []);
      // hotswap, Ansible and the floor alternate, so all see the same machine
      for (let i = 0; i < RUNS[hosts]; i++) {
        const h = await hotswapRun({ hosts, workDir: work });
        keep(h);
        results.hotswap.get(hosts)!.push(h);
        let line = `${hosts} host(s) run ${i + 1}/${RUNS[hosts]}: hotswap ${(h.m.wallMs / 1000).toFixed(2)} s`;
        if (OPENSSH_SIZES.has(hosts)) {
          const o = await hotswapRun({ hosts, workDir: work, client: 'openssh' });
          keep(o);
          results.openssh.get(hosts)!.push(o);
          line += `, with ssh.client openssh ${(o.m.wallMs / 1000).toFixed(2)} s`;
        }
        if (withAnsible) {
          const a = await ansibleRun({ hosts, workDir: work, ansiblePlaybook: ansible });
          keep(a);
          results.ansible.get(hosts)!.push(a);
          line += `, Ansible ${(a.m.wallMs / 1000).toFixed(2)} s`;
        }
        const f = await floorRun({ hosts, workDir: work });
        keep(f);
        results.floor.get(hosts)!.push(f);
        log(`${line}, floor ${(f.m.wallMs / 1000).toFixed(2)} s`);
      }
    }

    for (const hosts of [1, 10].filter((n) => SIZES.includes(n))) {
      log(`profile: ${hosts} host(s) with --cpu-prof and the round-trip census`);
      const p = await hotswapRun({ hosts, workDir: work, profile: true, census: true });
      keep(p);
      results.profiles.push(p);
    }

    for (const l of LOADS.filter((x) => SIZES.includes(x.hosts))) {
      const r = await hotswapRun({ hosts: l.hosts, workDir: work, load: l.mode, loadConcurrency: l.concurrency });
      keep(r);
      results.loads.push(r);
      const ok = r.load!.perHost.reduce((a, h) => a + h.ok, 0);
      const failed = r.load!.perHost.reduce((a, h) => a + h.failed, 0);
      const resets = r.load!.perHost.reduce((a, h) => a + h.keepAliveResets, 0);
      log(`load, ${l.hosts} host(s), ${l.mode}: ${ok} served, ${failed} failed, ${resets} keep-alive resets; apply ${(r.m.wallMs / 1000).toFixed(2)} s`);
    }

    log('start-up: node -e 0, hotswap --version, hotswap validate, ssh true');
    const s = await startup(work);
    results.startup = s.rows;
    results.validateProfile = s.validateProfile;

    log('host-side unit costs: one SSH connection, one exec round trip, one command in the shell, the facts script, an upload');
    // the last part: when it fails, what was measured before is still written
    results.units = await unitCosts(work).catch((e: Error) => {
      results.problems.push(`host-side unit costs not measured: ${e.message}`);
      log(`  PROBLEM: host-side unit costs not measured: ${e.message}`);
      return [];
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  results.totalS = (Date.now() - started) / 1000;
  results.loadavgEnd = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

  const { text, targetsMissed } = renderConsole(results);
  process.stdout.write(text);
  const partial = opt.quick || opt.sizes !== undefined || opt.runs !== undefined;
  const out = opt.out ?? (partial ? undefined : join(ROOT, 'bench', 'RESULTS.md'));
  if (out) {
    writeFileSync(out, renderMarkdown(results));
    log(`\nwrote ${out}`);
  }
  if (results.problems.length) return 1;
  return opt.strict && targetsMissed ? 1 : 0;
}

// Interrupted: stop every lab fleet still up (by pid) before leaving. The command
// being measured got the same signal from the terminal.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`\n${sig}: stopping the command being measured and the lab fleets still up ...`);
    stopMeasured();
    void stopAllFleets().then(() => {
      if (work) rmSync(work, { recursive: true, force: true });
      process.exit(130);
    });
  });
}

// (once interrupted, the signal handler exits, after the fleets are stopped)
main().then(
  (code) => {
    if (!isInterrupted()) process.exit(code);
  },
  (err: Error) => {
    if (isInterrupted()) return;
    log(`bench failed: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
