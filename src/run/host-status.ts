// What `hotswap status` reads off one host, changing nothing: the master and
// the build it runs, its workers, an upgrade in progress and its phase (from
// the process tree and the journal), backups, the last run, the lock.
import { basename, dirname } from 'node:path';
import type { ResolvedHost } from '../playbook/resolved.js';
import { gatherFacts } from '../nginx/facts.js';
import type { Transport } from '../transport/transport.js';
import { decodeStr, parseLines } from '../nginx/format.js';
import { runScriptOk } from '../remote/run.js';
import { lastRun, lastUpgrade, readJournal } from './journal.js';
import { lockPath } from './lock.js';
import { observedPhase } from './recover.js';
import { startHint, unitStatus, type UnitStatus } from './systemd-probe.js';
import { resolveLayout } from './host-layout.js';

export interface HostStatus {
  host: string;
  master?: { pid: number; sha256?: string; version?: string; workers: number; execs?: string };
  binary: { path: string; sha256?: string };
  upgrade: { inProgress: boolean; phase?: string; oldMaster?: number; newMaster?: number };
  lastRun?: { run: string; started: string; finished: boolean; result?: string; phase: string; last: string };
  backups: { path: string; sha256: string }[];
  lock?: string;
  /** the systemd service running nginx (or recorded by the journal), when there is one */
  systemd?: UnitStatus;
  problems: string[];
}

export async function hostStatus(given: ResolvedHost, t: Transport): Promise<HostStatus> {
  // a playbook naming only the binary: its other paths are read from the host first
  const layout = await resolveLayout(t, given);
  if (layout.problems.length) throw new Error(layout.problems.join('; '));
  const host = layout.host;
  const n = host.nginx;
  const [facts, journal] = await Promise.all([gatherFacts(t, { pidFile: n.pid_file, binary: n.binary, errorLog: n.error_log }), readJournal(t, n)]);
  const m = facts.master;
  const live = m && m.isNginxMaster && !m.zombie ? m : undefined;
  const extras = parseLines(await runScriptOk(t, 'status-extras', [dirname(n.binary), basename(n.binary), lockPath(n), live ? `/proc/${live.pid}/exe` : '-']), 'status').values;
  const value = (k: string) => extras.get(k) ?? [];
  const text = (k: string) => value(k).map(decodeStr);
  const last = lastRun(journal);
  const upgrade = lastUpgrade(journal);
  const systemd = await unitStatus(t, live?.pid, upgrade?.state.systemd, n.pid_file).catch((e: Error) => ({ unit: upgrade?.state.systemd?.unit ?? '?', user: false, line: `cannot be read: ${e.message}`, activeState: '', mainPid: 0, tracksMaster: false }));
  const seen = observedPhase(facts, upgrade?.state.oldSha ?? '');
  const twoMasters = seen.phase === 'usr2' || seen.phase === 'winch';
  return {
    host: host.name,
    master: live && { pid: live.pid, sha256: live.exeSha256, version: text('version_s')[0]?.replace(/^nginx version: /, ''), workers: live.workers.length, execs: live.execPath },
    binary: { path: n.binary, sha256: facts.binary.sha256 },
    upgrade: { inProgress: facts.upgradeInProgress, ...(twoMasters ? { phase: seen.phase === 'usr2' ? 'two masters, old workers serving (after USR2)' : 'two masters, old workers gone (after WINCH)', oldMaster: seen.oldPid, newMaster: seen.newPid } : {}) },
    lastRun: last && { run: last.run, started: last.started, finished: last.finished, result: last.finished ? last.last.result : undefined, phase: last.last.phase, last: last.last.action ?? last.last.event },
    backups: text('backup_s').map((path, i) => ({ sha256: value('backup_sha256')[i] ?? '', path })),
    lock: text('lock_s')[0],
    systemd,
    problems: facts.blockers.filter((b) => !/upgrade is in progress/.test(b)),
  };
}

const short = (s?: string) => (s ? `${s.slice(0, 12)}…` : '?');

export function statusText(s: HostStatus): string {
  const out = [`${s.host}: ${s.master ? `master ${s.master.pid} runs ${short(s.master.sha256)} (${s.master.version ?? '?'}), ${s.master.workers} workers` : `NO nginx master running${s.systemd ? `; ${startHint(s.systemd)}` : ''}`}`];
  if (s.systemd) out.push(`  systemd: ${s.systemd.line}${s.master ? (s.systemd.tracksMaster ? ' (the master)' : ` (NOT the master ${s.master.pid}: systemd does not track it; see systemctl status ${s.systemd.unit})`) : ''}`);
  out.push(`  binary ${s.binary.path}: sha256 ${short(s.binary.sha256)}${s.master && s.binary.sha256 !== s.master.sha256 ? ' (differs from what runs)' : ''}`);
  out.push(`  upgrade in progress: ${s.upgrade.phase ? `${s.upgrade.phase}: old master ${s.upgrade.oldMaster}, new master ${s.upgrade.newMaster}` : s.upgrade.inProgress ? 'yes' : 'no'}`);
  if (s.lastRun) {
    out.push(`  last run ${s.lastRun.run} (started ${s.lastRun.started}): ${s.lastRun.finished ? `ended ${s.lastRun.result}` : `INTERRUPTED in phase "${s.lastRun.phase}", while: ${s.lastRun.last}; undo it with hotswap rollback`}`);
  } else out.push('  last run: none recorded');
  out.push(`  backups: ${s.backups.length ? s.backups.map((b) => `${b.path} (${short(b.sha256)})`).join(', ') : 'none'}`);
  out.push(`  lock: ${s.lock ? `held: ${s.lock}` : 'free'}`);
  for (const p of s.problems) out.push(`  note: ${p}`);
  return out.join('\n');
}
