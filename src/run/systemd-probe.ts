// The host side of src/nginx/systemd.ts: which systemd unit runs the master,
// what systemd knows of it, and whether it tracks the new master once the old
// one exits. Every command is a plain argv (quoted by the transport), never a
// shell script; nothing here runs unless the master's cgroup names a service.
import { checkMainPid, describeUnit, parseSystemctlShow, systemctlShowArgv, systemdRefusals, unitFromCgroup, type MainPidCheck, type UnitFacts } from '../nginx/systemd.js';
import type { HostFacts } from '../nginx/facts.js';
import type { Transport } from '../transport/transport.js';

/** The unit that runs nginx, as hotswap addresses it with systemctl. */
export interface UnitRef {
  unit: string;
  /** under a user manager: `systemctl --user` */
  user: boolean;
}

const TIMEOUT_MS = 10_000;

/** `systemctl [--user] ARGS…` */
export function systemctlArgv(ref: UnitRef, args: readonly string[]): string[] {
  return ['systemctl', ...(ref.user ? ['--user'] : []), ...args];
}

function showArgv(ref: UnitRef): string[] {
  return systemctlArgv(ref, systemctlShowArgv(ref.unit).slice(1));
}

/** The .service whose cgroup holds `pid`; null for none (no systemd, a login scope, a process gone). */
export async function serviceOf(t: Transport, pid: number): Promise<UnitRef | null> {
  const r = await t.exec(['cat', '--', `/proc/${pid}/cgroup`], { timeoutMs: TIMEOUT_MS });
  if (r.code !== 0) return null;
  const u = unitFromCgroup(r.stdout);
  return u && u.unit.endsWith('.service') ? { unit: u.unit, user: u.userManager } : null;
}

export async function readUnit(t: Transport, ref: UnitRef): Promise<UnitFacts> {
  const r = await t.exec(showArgv(ref), { timeoutMs: TIMEOUT_MS });
  if (r.code !== 0) throw new Error(`cannot read systemd unit ${ref.unit} (${systemctlArgv(ref, ['show', ref.unit]).join(' ')} exited ${r.code}): ${r.stderr.trim().slice(0, 300)}`);
  return parseSystemctlShow(r.stdout);
}

export interface SystemdPreflight {
  ref?: UnitRef;
  unit?: UnitFacts;
  refusals: string[];
}

/**
 * Pre-flight for a master under a systemd service: one round trip for the
 * cgroup, one for the unit and nginx's pid file resolved (`realpath -m`), a
 * third only when the unit's PIDFile is spelled differently from nginx's.
 */
export async function systemdPreflight(t: Transport, facts: HostFacts, pidFile: string): Promise<SystemdPreflight> {
  const m = facts.master;
  if (!m || !m.isNginxMaster || m.zombie || !m.exists) return { refusals: [] };
  const ref = await serviceOf(t, m.pid);
  if (!ref) return { refusals: [] };
  const [show, real] = t.sequence([{ argv: showArgv(ref), timeoutMs: TIMEOUT_MS }, { argv: ['realpath', '-m', '--', pidFile], timeoutMs: TIMEOUT_MS }]);
  const shown = await show!.catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
  if (shown.code !== 0) {
    return { ref, refusals: [`the nginx master ${m.pid} runs in systemd unit ${ref.unit}, whose settings cannot be read (${systemctlArgv(ref, ['show', ref.unit]).join(' ')}: ${shown.stderr.trim().slice(0, 200) || `exit ${shown.code}`}): a hot upgrade under a unit hotswap cannot check may make systemd kill nginx`] };
  }
  const unit = parseSystemctlShow(shown.stdout);
  const nginxPidFileReal = await realOf(real!);
  let unitPidFileReal: string | undefined;
  if (unit.pidFile && nginxPidFileReal !== undefined) {
    unitPidFileReal = unit.pidFile === pidFile ? nginxPidFileReal : await realOf(t.exec(['realpath', '-m', '--', unit.pidFile], { timeoutMs: TIMEOUT_MS }));
  }
  const refusals = systemdRefusals({ unit, masterPid: m.pid, nginxPidFile: pidFile, nginxPidFileReal, unitPidFileReal }).map((r) => r.message);
  return { ref, unit, refusals };
}

async function realOf(p: Promise<{ code: number | null; stdout: string }>): Promise<string | undefined> {
  const r = await p.catch(() => undefined);
  const line = r?.code === 0 ? r.stdout.replace(/\n$/, '') : '';
  return line.startsWith('/') && !line.includes('\n') ? line : undefined;
}

const ADOPT_MS = 2_000;
const ADOPT_PERIOD_MS = 100;

/**
 * After the old master exited: polls the unit until systemd tracks the new
 * master and is active (≤0.3 s seen), at most ~2 s. Resolves with the last
 * check: `ok`, or why not (a `pending` at the deadline counts as failed).
 */
export async function awaitMainPid(t: Transport, ref: UnitRef, newMaster: number, oldMaster: number | undefined, stop?: AbortSignal): Promise<{ check: MainPidCheck; unit?: UnitFacts; ms: number }> {
  const started = Date.now();
  for (;;) {
    const unit = await readUnit(t, ref);
    const check = checkMainPid(unit, newMaster, oldMaster);
    const ms = Date.now() - started;
    if (check.state !== 'pending') return { check, unit, ms };
    if (ms >= ADOPT_MS || stop?.aborted) return { check: { state: 'failed', reason: `${check.reason} ${(ms / 1000).toFixed(1)}s after the old master exited` }, unit, ms };
    await new Promise((r) => setTimeout(r, ADOPT_PERIOD_MS));
  }
}


// Why a guess by name: with nginx down there is no cgroup to read, and systemd
// forgets a stopped unit's pattern match (`systemctl show '*.service'` lists
// loaded, active units only). The journal records the unit of any run that
// found one; this is for a host hotswap never saw under systemd.
/** `nginx.service`, when systemd has it loaded with PIDFile naming `pidFile`; null otherwise (or without systemctl). */
export async function conventionalService(t: Transport, pidFile: string): Promise<UnitRef | null> {
  const ref: UnitRef = { unit: 'nginx.service', user: false };
  const r = await t.exec(showArgv(ref), { timeoutMs: TIMEOUT_MS }).catch(() => undefined);
  if (!r || r.code !== 0) return null;
  const u = parseSystemctlShow(r.stdout);
  const norm = (p: string) => p.replace(/^\/var\/run\//, '/run/').replace(/\/+/g, '/');
  return u.loadState === 'loaded' && u.pidFile && norm(u.pidFile) === norm(pidFile) ? ref : null;
}

/** What `status` shows of the unit. */
export interface UnitStatus {
  unit: string;
  user: boolean;
  /** describeUnit: "nginx.service active (running), MainPID 123" */
  line: string;
  activeState: string;
  mainPid: number;
  /** MainPID is the master the pid file names */
  tracksMaster: boolean;
}

/** The unit of the running master (its cgroup), else the one the journal recorded, else nginx.service if it names this pid file. */
export async function unitStatus(t: Transport, masterPid: number | undefined, recorded: UnitRef | undefined, pidFile: string): Promise<UnitStatus | undefined> {
  const ref = (masterPid ? await serviceOf(t, masterPid) : null) ?? recorded ?? (masterPid ? null : await conventionalService(t, pidFile));
  if (!ref) return undefined;
  const u = await readUnit(t, ref);
  return { unit: ref.unit, user: ref.user, line: describeUnit(u), activeState: u.activeState, mainPid: u.mainPid, tracksMaster: !!masterPid && u.mainPid === masterPid };
}

/** The words for a host where no master runs, under a unit: how to start it. */
export function startHint(s: Pick<UnitStatus, 'unit' | 'user' | 'activeState'>): string {
  return `systemd unit ${s.unit} is ${s.activeState || 'in an unknown state'}: start nginx with \`${systemctlArgv(s, ['start', s.unit]).join(' ')}\``;
}
