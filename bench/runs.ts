// One measured run each: hotswap apply on a fresh lab fleet (optionally under
// load, profiled, or with the round-trip census), the Ansible reference
// playbook on a fresh lab fleet, and the start-up commands. Every fleet is
// started on the old build and stopped (by pid) before the function returns.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLabFleet, type LabFleet } from '../lab/fleet.js';
import { runLoad, type LoadResult } from '../lab/load.js';
import { repoRoot } from '../lab/nginx-builds.js';
import type { Census } from './census-hook.js';
import { summarizeProfile, type ProfileSummary } from './profile.js';
import { CpuAccount, max, measure, min, tail, untilNoChildren, type Measured } from './util.js';

export const ROOT = repoRoot();
export const CLI = join(ROOT, 'dist', 'hotswap.cjs');
// tsc's modules: the census hook wraps ssh2 as loaded from node_modules
const CLI_MODULES = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const HOOK = join(ROOT, 'dist', 'bench', 'census-hook.js');
const FLOOR = join(ROOT, 'dist', 'bench', 'floor.js');
export const ANSIBLE_DIR = join(ROOT, 'bench', 'ansible');

/** Every run is bounded: a run past this is stopped and reported as failed. */
const RUN_TIMEOUT_MS = 180_000;

/** The phases of one host's upgrade, from the step-end events of `--json`. */
export const PHASES = ['connect', 'facts', 'backup', 'upload + config test', 'USR2 -> new master ready', 'WINCH -> old workers gone', 'verify', 'QUIT -> old master gone'] as const;
export type PhaseName = (typeof PHASES)[number];

function phaseOf(label: string): PhaseName | null {
  if (label === 'backup') return 'backup';
  if (label === 'copy-binary') return 'upload + config test';
  if (/USR2|new-master-ready/.test(label)) return 'USR2 -> new master ready';
  if (/WINCH|old-workers-exited/.test(label)) return 'WINCH -> old workers gone';
  if (label === 'verify') return 'verify';
  if (/QUIT|old-master-exited/.test(label)) return 'QUIT -> old master gone';
  return null;
}

export type LoadMode = 'new connections' | 'keep-alive';

/** The few fields of hotswap's --json events the benchmark reads. */
interface JsonEvent {
  ts?: string;
  type: string;
  host?: string;
  label?: string;
  ms?: number;
  result?: string;
  connectMs?: number;
  factsMs?: number;
  when?: string;
}

export interface HostTimes {
  host: string;
  result: string;
  totalMs: number;
  /** epoch ms of host-start / host-end */
  startedAt: number;
  endedAt: number;
  phases: Partial<Record<PhaseName, number>>;
}

function hostsFromEvents(events: JsonEvent[]): HostTimes[] {
  const hosts = new Map<string, HostTimes>();
  const get = (name: string) => {
    let h = hosts.get(name);
    if (!h) hosts.set(name, (h = { host: name, result: '?', totalMs: NaN, startedAt: NaN, endedAt: NaN, phases: {} }));
    return h;
  };
  for (const e of events) {
    if (!e.host) continue;
    const h = get(e.host);
    const ts = Date.parse(e.ts ?? '');
    if (e.type === 'host-start') h.startedAt = ts;
    else if (e.type === 'host-facts' && e.when !== 'after') Object.assign(h.phases, { connect: e.connectMs, facts: e.factsMs });
    else if (e.type === 'step-end' && e.label !== undefined && e.ms !== undefined) {
      const p = phaseOf(e.label);
      if (p) h.phases[p] = (h.phases[p] ?? 0) + e.ms;
    } else if (e.type === 'host-end') Object.assign(h, { endedAt: ts, result: e.result ?? '?', totalMs: e.ms ?? NaN });
  }
  return [...hosts.values()].filter((h) => Number.isFinite(h.startedAt) && Number.isFinite(h.endedAt));
}

export interface HostLoad extends LoadResult {
  host: string;
}

export interface HotswapRun {
  hosts: number;
  m: Measured;
  /** CPU seconds of the lab sshd's sessions and every command run through them (NaN: no cgroup) */
  hostSideCpuS: number;
  /** per host: phase -> ms, and the host's total */
  perHost: HostTimes[];
  /** process start -> RunRecord created (start-up, playbook loaded, build hashed) / run / record written -> exit */
  beforeRunMs: number;
  runMs: number;
  afterRunMs: number;
  /** hosts whose master runs the new build afterwards, and is not the old master */
  upgraded: number;
  load?: { mode: LoadMode; concurrency: number; perHost: HostLoad[] };
  census?: Census;
  profile?: ProfileSummary | null;
  problems: string[];
}

export interface HotswapRunOptions {
  hosts: number;
  workDir: string;
  load?: LoadMode;
  /** load: requests in flight per host */
  loadConcurrency?: number;
  profile?: boolean;
  census?: boolean;
  /** ssh.client: openssh (the system ssh, multiplexed) instead of the built-in client */
  client?: 'openssh';
}

let accounts = 0;

/** The stop of every lab fleet (and cgroup) still up: what an interrupted benchmark must stop. */
const running = new Set<() => Promise<void>>();
/** Fleets being started: stopped as soon as they are up when the benchmark was interrupted. */
const starting = new Set<Promise<unknown>>();
let interrupted = false;

export const isInterrupted = () => interrupted;

/** Stops every lab fleet, including those still starting; later ones are stopped as soon as they are up. */
export async function stopAllFleets(): Promise<void> {
  interrupted = true;
  await Promise.allSettled([...running].map((stop) => stop()));
  await Promise.allSettled([...starting]);
}

/**
 * A fresh lab fleet on the old build, whose sshd (and so every session and remote
 * command) is CPU-accounted when `accounted`. `stop` stops it by pid (once).
 */
export function labFleet(dir: string, hosts: number, accounted = true): Promise<{ fleet: LabFleet; account: CpuAccount | null; stop: () => Promise<void> }> {
  const up = (async () => {
    const fleet = await startLabFleet({ dir, hosts });
    if (interrupted) {
      await fleet.stop();
      throw new Error('interrupted');
    }
    let account = accounted ? CpuAccount.create(`hotswap-bench-${process.pid}-${++accounts}`) : null;
    if (account && !account.add(fleet.sshd.pid)) {
      await account.remove(0);
      account = null;
    }
    let stopped: Promise<void> | undefined;
    const stop = () => {
      stopped ??= (async () => {
        running.delete(stop);
        await fleet.stop();
        await account?.remove();
      })();
      return stopped;
    };
    running.add(stop);
    return { fleet, account, stop };
  })();
  starting.add(up);
  void up.then(() => starting.delete(up), () => starting.delete(up));
  return up;
}

/** An empty folder `name` under the work dir, and an accounted lab fleet in it. */
async function freshFleet(workDir: string, name: string, hosts: number) {
  const dir = join(workDir, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return { dir, ...(await labFleet(dir, hosts)) };
}

/** Host-side CPU seconds used since `from`, once every SSH session has ended. */
async function hostSideSince(fleet: LabFleet, account: CpuAccount | null, from: number): Promise<number> {
  if (!account) return NaN;
  await untilNoChildren(fleet.sshd.pid);
  return account.seconds() - from;
}

function sha256(path: string): string | null {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return null;
  }
}

/** Hosts whose current master runs `sha`, and is not the master that served before. */
async function countUpgraded(fleet: LabFleet, before: (number | null)[], sha: string): Promise<number> {
  let n = 0;
  for (const [i, h] of fleet.hosts.entries()) {
    const pid = await h.masterPid();
    if (pid !== null && pid !== before[i] && sha256(`/proc/${pid}/exe`) === sha && !existsSync(`${h.pidFile}.oldbin`)) n++;
  }
  return n;
}

export async function hotswapRun(o: HotswapRunOptions): Promise<HotswapRun> {
  const { dir, fleet, account, stop } = await freshFleet(o.workDir, `hotswap-${o.hosts}`, o.hosts);
  const problems: string[] = [];
  try {
    const playbook = await fleet.writePlaybook(join(dir, 'playbook.yaml'));
    if (o.client) withClient(playbook, o.client);
    const profDir = join(dir, 'cpuprofile');
    const censusFile = join(dir, 'census.json');
    const nodeArgs = [
      ...(o.census ? ['--import', HOOK] : []),
      ...(o.profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
    ];
    const before = await Promise.all(fleet.hosts.map((h) => h.masterPid()));

    // Load: every host, from this process, started before and stopped after the
    // upgrade; bounded in time and count whatever happens.
    const loads = o.load
      ? fleet.hosts.map((h) => ({
          host: h.name,
          run: runLoad({ url: `http://127.0.0.1:${h.port}/`, concurrency: o.loadConcurrency ?? 2, durationMs: RUN_TIMEOUT_MS, maxRequests: 500_000, keepAlive: o.load === 'keep-alive' }),
        }))
      : [];
    if (loads.length) await new Promise((r) => setTimeout(r, 300));

    const host0 = account?.seconds() ?? NaN;
    const m = await measure([process.execPath, ...nodeArgs, o.census ? CLI_MODULES : CLI, 'apply', playbook, '--yes', '--json'], {
      env: { ...process.env, ...(o.census ? { HOTSWAP_BENCH_CENSUS: censusFile } : {}) },
      timeFile: join(dir, 'time.txt'),
      timeoutMs: RUN_TIMEOUT_MS,
    });
    let load: HotswapRun['load'];
    if (loads.length) {
      await new Promise((r) => setTimeout(r, 300));
      for (const l of loads) l.run.controller.abort();
      load = { mode: o.load!, concurrency: o.loadConcurrency ?? 2, perHost: await Promise.all(loads.map(async (l) => ({ host: l.host, ...(await l.run.done) }))) };
    }
    const hostSideCpuS = await hostSideSince(fleet, account, host0);
    if (m.code !== 0) problems.push(`hotswap apply exited ${m.code} on ${o.hosts} hosts:\n${tail(m.stderr + m.stdout)}`);

    // Phases and timestamps from the --json event stream (not --report: a report
    // makes hotswap read every host's facts once more at the end, for the record).
    const events = m.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => {
      try {
        return JSON.parse(l) as JsonEvent;
      } catch {
        return null;
      }
    }).filter((e): e is JsonEvent => e !== null);
    const perHost = hostsFromEvents(events);
    let beforeRunMs = NaN, runMs = NaN, afterRunMs = NaN;
    if (perHost.length) {
      const first = min(perHost.map((h) => h.startedAt));
      const last = max(perHost.map((h) => h.endedAt));
      beforeRunMs = first - m.startedAt;
      runMs = last - first;
      afterRunMs = m.endedAt - last;
    } else problems.push(`no --json events from hotswap apply on ${o.hosts} hosts`);

    const upgraded = await countUpgraded(fleet, before, fleet.builds.new.sha256);
    if (upgraded !== o.hosts) problems.push(`only ${upgraded} of ${o.hosts} hosts run the new build after hotswap apply`);
    const census = o.census && existsSync(censusFile) ? (JSON.parse(readFileSync(censusFile, 'utf8')) as Census) : undefined;
    const profile = o.profile && existsSync(profDir) ? summarizeProfile(profDir) : undefined;
    return { hosts: o.hosts, m, hostSideCpuS, perHost, beforeRunMs, runMs, afterRunMs, upgraded, load, census, profile, problems };
  } finally {
    await stop();
  }
}

export interface FloorRun {
  hosts: number;
  m: Measured;
  hostSideCpuS: number;
  problems: string[];
}

/** The floor (bench/floor.ts) on a fresh lab fleet: bare signals and waits over SSH, nothing checked. */
export async function floorRun(o: { hosts: number; workDir: string }): Promise<FloorRun> {
  const { dir, fleet, account, stop } = await freshFleet(o.workDir, `floor-${o.hosts}`, o.hosts);
  const problems: string[] = [];
  try {
    const before = await Promise.all(fleet.hosts.map((h) => h.masterPid()));
    const spec = { port: fleet.sshd.port, user: fleet.user.name, identityFile: fleet.sshd.identityFile, knownHostsFile: fleet.sshd.knownHostsFile, pidFiles: fleet.hosts.map((h) => h.pidFile) };
    const host0 = account?.seconds() ?? NaN;
    const m = await measure([process.execPath, FLOOR, JSON.stringify(spec)], { timeFile: join(dir, 'time.txt'), timeoutMs: RUN_TIMEOUT_MS });
    const hostSideCpuS = await hostSideSince(fleet, account, host0);
    if (m.code !== 0) problems.push(`the floor run exited ${m.code} on ${o.hosts} hosts:\n${tail(m.stderr + m.stdout)}`);
    // the same build again, under a new master
    const renewed = await countUpgraded(fleet, before, fleet.builds.old.sha256);
    if (renewed !== o.hosts) problems.push(`the floor run left only ${renewed} of ${o.hosts} hosts under a new master`);
    return { hosts: o.hosts, m, hostSideCpuS, problems };
  } finally {
    await stop();
  }
}

export interface AnsibleRun {
  hosts: number;
  m: Measured;
  hostSideCpuS: number;
  upgraded: number;
  problems: string[];
}

/**
 * The inventory for a lab fleet. Each host gets its own ControlPath: the lab's
 * hosts share one address, port and user, and Ansible's default path (a hash
 * of those) would multiplex every host over one SSH connection, which no real
 * fleet of separate machines can do.
 */
export function ansibleInventory(fleet: LabFleet, controlDir: string): string {
  const inv = {
    nginx: {
      hosts: Object.fromEntries(fleet.hosts.map((h) => [h.name, {
        ansible_host: '127.0.0.1',
        ansible_port: fleet.sshd.port,
        ansible_ssh_common_args: `-o ControlPath=${controlDir}/${h.name} -o UserKnownHostsFile=${fleet.sshd.knownHostsFile} -o StrictHostKeyChecking=yes`,
        prefix: h.root,
        http_port: h.port,
      }])),
      vars: {
        ansible_user: fleet.user.name,
        ansible_ssh_private_key_file: fleet.sshd.identityFile,
        new_build: fleet.builds.new.path,
      },
    },
  };
  return `# written by bench/runs.ts for one benchmark run (see inventory.example.yml)\n${JSON.stringify(inv, null, 2)}\n`;
}

export async function ansibleRun(o: { hosts: number; workDir: string; ansiblePlaybook: string }): Promise<AnsibleRun> {
  const { dir, fleet, account, stop } = await freshFleet(o.workDir, `ansible-${o.hosts}`, o.hosts);
  // (a unix socket path has a 108-byte limit: the work dir is short)
  const controlDir = join(dir, 'cp');
  mkdirSync(controlDir);
  const problems: string[] = [];
  try {
    const inventory = join(dir, 'inventory.yml');
    writeFileSync(inventory, ansibleInventory(fleet, controlDir));
    const before = await Promise.all(fleet.hosts.map((h) => h.masterPid()));
    const host0 = account?.seconds() ?? NaN;
    const m = await measure([o.ansiblePlaybook, '-i', inventory, join(ANSIBLE_DIR, 'upgrade.yml')], {
      env: { ...process.env, ANSIBLE_CONFIG: join(ANSIBLE_DIR, 'ansible.cfg'), ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCAL_TEMP: join(dir, 'ansible-local') },
      timeFile: join(dir, 'time.txt'),
      timeoutMs: RUN_TIMEOUT_MS,
    });
    closeControlMasters(fleet, controlDir);
    const hostSideCpuS = await hostSideSince(fleet, account, host0);
    if (m.code !== 0) problems.push(`ansible-playbook exited ${m.code} on ${o.hosts} hosts:\n${tail(m.stdout + m.stderr)}`);
    const upgraded = await countUpgraded(fleet, before, fleet.builds.new.sha256);
    if (upgraded !== o.hosts) problems.push(`only ${upgraded} of ${o.hosts} hosts run the new build after the Ansible playbook`);
    return { hosts: o.hosts, m, hostSideCpuS, upgraded, problems };
  } finally {
    closeControlMasters(fleet, controlDir);
    await stop();
  }
}

/**
 * The ControlPersist masters Ansible leaves behind: each is asked to exit through
 * its own socket (`ssh -O exit`), before the lab's sshd goes.
 */
function closeControlMasters(fleet: LabFleet, controlDir: string): void {
  for (const h of fleet.hosts) {
    const sock = join(controlDir, h.name);
    if (existsSync(sock)) spawnSync('ssh', ['-O', 'exit', '-o', `ControlPath=${sock}`, 'lab'], { stdio: 'ignore', timeout: 5_000 });
  }
}

/** One plain OpenSSH connection running `true`: the floor of any SSH-driven tool. */
export async function sshTrue(fleet: LabFleet): Promise<Measured> {
  return measure(['ssh', '-i', fleet.sshd.identityFile, '-p', String(fleet.sshd.port), '-o', `UserKnownHostsFile=${fleet.sshd.knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ControlMaster=no', '-o', 'ControlPath=none', `${fleet.user.name}@127.0.0.1`, 'true'], { timeoutMs: 30_000 });
}

/** The lab playbook with `ssh.client` set (the lab writes host_key_checking in its ssh: block). */
function withClient(file: string, client: 'openssh'): void {
  const text = readFileSync(file, 'utf8');
  const at = '  host_key_checking: strict\n';
  if (!text.includes(at)) throw new Error(`${file}: no ssh.host_key_checking line to put ssh.client beside`);
  writeFileSync(file, text.replace(at, `${at}  client: ${client}\n`));
}
