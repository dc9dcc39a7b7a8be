// What `hotswap status` reads off one host, changing nothing: the master and
// the build it runs, its workers, an upgrade in progress and its phase (from
// the process tree and the journal), backups, the last run, the lock.
import { basename, dirname } from 'node:path';
import type { ResolvedHost } from '../playbook/resolved.js';
import { gatherFacts } from '../nginx/facts.js';
import type { Transport } from '../transport/transport.js';
import { SHA, sh } from '../steps/file-ops.js';
import { lastRun, lastUpgrade, readJournal } from './journal.js';
import { lockPath } from './lock.js';
import { observedPhase } from './recover.js';

export interface HostStatus {
  host: string;
  master?: { pid: number; sha256?: string; version?: string; workers: number; execs?: string };
  binary: { path: string; sha256?: string };
  upgrade: { inProgress: boolean; phase?: string; oldMaster?: number; newMaster?: number };
  lastRun?: { run: string; started: string; finished: boolean; result?: string; phase: string; last: string };
  backups: { path: string; sha256: string }[];
  lock?: string;
  problems: string[];
}

// $1 binary dir, $2 binary name, $3 lock dir, $4 exe to ask -v ("-" for none).
const EXTRAS = `set -u
${SHA}
for f in "$1/$2".*.bak; do [ -f "$f" ] && printf 'backup %s %s\\n' "$(sha "$f")" "$f"; done
[ -f "$3/owner" ] && printf 'lock %s\\n' "$(cat -- "$3/owner")"
[ "$4" != - ] && printf 'version %s\\n' "$("$4" -v 2>&1)"
exit 0`;

export async function hostStatus(host: ResolvedHost, t: Transport): Promise<HostStatus> {
  const n = host.nginx;
  const [facts, journal] = await Promise.all([gatherFacts(t, { pidFile: n.pid_file, binary: n.binary, errorLog: n.error_log }), readJournal(t, n)]);
  const m = facts.master;
  const live = m && m.isNginxMaster && !m.zombie ? m : undefined;
  const extras = await sh(t, EXTRAS, [dirname(n.binary), basename(n.binary), lockPath(n), live ? `/proc/${live.pid}/exe` : '-']);
  const lines = extras.split('\n');
  const value = (k: string) => lines.filter((l) => l.startsWith(`${k} `)).map((l) => l.slice(k.length + 1));
  const last = lastRun(journal);
  const upgrade = lastUpgrade(journal);
  const seen = observedPhase(facts, upgrade?.state.oldSha ?? '');
  const twoMasters = seen.phase === 'usr2' || seen.phase === 'winch';
  return {
    host: host.name,
    master: live && { pid: live.pid, sha256: live.exeSha256, version: value('version')[0]?.replace(/^nginx version: /, ''), workers: live.workers.length, execs: live.execPath },
    binary: { path: n.binary, sha256: facts.binary.sha256 },
    upgrade: { inProgress: facts.upgradeInProgress, ...(twoMasters ? { phase: seen.phase === 'usr2' ? 'two masters, old workers serving (after USR2)' : 'two masters, old workers gone (after WINCH)', oldMaster: seen.oldPid, newMaster: seen.newPid } : {}) },
    lastRun: last && { run: last.run, started: last.started, finished: last.finished, result: last.finished ? last.last.result : undefined, phase: last.last.phase, last: last.last.action ?? last.last.event },
    backups: value('backup').map((l) => ({ sha256: l.slice(0, 64), path: l.slice(65) })),
    lock: value('lock')[0],
    problems: facts.blockers.filter((b) => !/upgrade is in progress/.test(b)),
  };
}

const short = (s?: string) => (s ? `${s.slice(0, 12)}…` : '?');

export function statusText(s: HostStatus): string {
  const out = [`${s.host}: ${s.master ? `master ${s.master.pid} runs ${short(s.master.sha256)} (${s.master.version ?? '?'}), ${s.master.workers} workers` : 'NO nginx master running'}`];
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
