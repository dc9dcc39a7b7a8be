// `hotswap rollback` on one host: whatever a crash, a kill -9, a lost link or
// an interrupt left, read where the host really is (process tree and pid
// files, not memory) and bring it back to the build its journal recorded
// before the last upgrade, by the same careful sequence as the automatic
// rollback.
import type { ResolvedHost } from '../playbook/resolved.js';
import { gatherFacts, type HostFacts } from '../nginx/facts.js';
import type { Transport } from '../transport/transport.js';
import { HostRun, short, type Phase, type RunContext } from './host-run.js';
import { journalPath, lastUpgrade, readJournal } from './journal.js';
import { rollback } from './rollback.js';
import { conventionalService } from './systemd-probe.js';

/** `failed`: nginx was down and serves again only after a cold start (connections were dropped). */
export type Recovery = { result: 'ok' | 'rolled_back' | 'failed' | 'refused' | 'rollback_failed'; message: string };

/** The phase an upgrade is in, read off the host. */
export function observedPhase(f: HostFacts, oldSha: string): { phase: Phase | 'nothing' | 'no-master'; oldPid?: number; newPid?: number } {
  if (f.oldMaster && f.oldMaster.isNginxMaster && !f.oldMaster.zombie) {
    // two masters: before WINCH the old one still has serving workers
    return { phase: serving(f.oldMaster) ? 'usr2' : 'winch', oldPid: f.oldMaster.pid, newPid: f.master?.pid };
  }
  const m = f.master;
  if (!m || !m.isNginxMaster || m.zombie) return { phase: 'no-master' };
  if (m.newMasterChild) return { phase: serving(m) ? 'usr2' : 'winch', oldPid: m.pid, newPid: m.newMasterChild };
  if (m.exeSha256 === oldSha) return { phase: f.binary.sha256 === oldSha ? 'nothing' : 'replaced', oldPid: m.pid };
  return { phase: 'done' }; // the old master is gone: the way back is a second upgrade
}

// After WINCH a worker still finishing a request is titled "worker process is shutting down".
function serving(m: { children: { role: string; zombie: boolean; title: string }[] }): boolean {
  return m.children.some((c) => c.role === 'worker' && !c.zombie && !c.title.includes('shutting down'));
}

export async function recoverHost(host: ResolvedHost, t: Transport, ctx: RunContext): Promise<Recovery> {
  const n = host.nginx;
  const [facts, journal] = await Promise.all([gatherFacts(t, { pidFile: n.pid_file, binary: n.binary, errorLog: n.error_log }), readJournal(t, n)]);
  const last = lastUpgrade(journal);
  if (!last?.state.backup || !last.state.oldSha) {
    return { result: 'refused', message: `no recorded backup to go back to in ${journalPath(n)}: nothing hotswap upgraded here can be undone` };
  }
  const { oldSha, backup, target } = last.state;
  const seen = observedPhase(facts, oldSha);
  if (seen.phase === 'nothing') return { result: 'ok', message: `already serving the build from before run ${last.run} (sha256 ${short(oldSha)}), from ${target}` };
  // nginx is down: under systemd the old file is restored and the unit started (a cold start); else a person starts it
  const unit = seen.phase === 'no-master' ? last.state.systemd ?? (await conventionalService(t, n.pid_file)) : undefined;
  if (seen.phase === 'no-master' && !unit) return { result: 'refused', message: `no nginx master is running (${n.pid_file}): start nginx with the binary restored from ${backup}` };
  const run = new HostRun(host, t, ctx, facts, {
    systemd: unit ?? last.state.systemd,
    phase: seen.phase === 'no-master' ? 'done' : seen.phase,
    oldPid: seen.oldPid ?? last.state.oldPid ?? 0,
    newPid: seen.newPid,
    target: target ?? n.binary,
    oldSha,
    newSha: last.state.newSha,
    backup,
    modules: last.state.modules,
    diverted: last.state.diverted,
    errorLogSize: facts.errorLog.size ?? 0,
    pidFileCtime: facts.pidFile.ctime,
  });
  await run.journal('start', `rollback of run ${last.run} from phase ${seen.phase}`);
  try {
    const done = await rollback(run);
    if (run.state.coldStarted) {
      const message = `nginx was down (no master in ${n.pid_file}): ${done}; serving sha256 ${short(oldSha)} again, after a cold start`;
      await run.end({ result: 'failed', message });
      return { result: 'failed', message };
    }
    await run.end({ result: 'rolled_back', message: done });
    return { result: 'rolled_back', message: `from phase "${seen.phase}": ${done}; serving sha256 ${short(oldSha)} again` };
  } catch (err) {
    const message = `from phase "${seen.phase}": ${(err as Error).message}. A person must check this host now: backup ${backup}, old build sha256 ${oldSha}`;
    await run.end({ result: 'rollback_failed', message });
    return { result: 'rollback_failed', message };
  }
}
