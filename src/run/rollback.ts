// Automatic rollback: the compensation is chosen by how far the upgrade got,
// and always ends with the old build serving from the old file, with no
// .oldbin left. Any doubt at the end is a failed rollback: a person is needed.
import { gatherFacts, type HostFacts } from '../nginx/facts.js';
import { sendSignal, type NginxSignal } from '../nginx/signal.js';
import { waitFor, type WaitMode } from '../nginx/wait.js';
import { restoreFile } from '../steps/file-ops.js';
import { discardStaged } from '../steps/copy-binary.js';
import { short, type HostRun } from './host-run.js';

const SETTLE_MS = 30_000;

export async function rollback(run: HostRun): Promise<string> {
  const { state } = run;
  const done: string[] = [];
  await discardStaged(run);
  switch (state.phase) {
    case 'clean':
      return 'nothing had changed';
    case 'replaced':
      await restore(run, done);
      break;
    case 'usr2':
      await quitNewMaster(run, done);
      await restore(run, done);
      break;
    case 'winch':
      await signal(run, 'HUP', state.oldPid, done);
      await poll(run, 'the old master has workers again', (f) => f.master?.pid === state.oldPid || f.oldMaster?.pid === state.oldPid ? workersOf(f, state.oldPid) > 0 : false);
      await quitNewMaster(run, done);
      await restore(run, done);
      break;
    case 'quit':
    case 'done':
      await upgradeBack(run, done);
      break;
  }
  await confirmServingOld(run);
  return done.join('; ');
}

async function facts(run: HostRun): Promise<HostFacts> {
  const n = run.host.nginx;
  return gatherFacts(run.t, { pidFile: n.pid_file, binary: n.binary, errorLog: n.error_log });
}

function workersOf(f: HostFacts, pid: number): number {
  const m = f.master?.pid === pid ? f.master : f.oldMaster?.pid === pid ? f.oldMaster : null;
  return m ? m.workers.length : 0;
}

async function poll(run: HostRun, what: string, ok: (f: HostFacts) => boolean, timeoutMs = SETTLE_MS): Promise<HostFacts> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const f = await facts(run);
    if (ok(f)) return f;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function signal(run: HostRun, sig: NginxSignal, pid: number, done: string[]): Promise<void> {
  const r = await sendSignal(run.t, sig, pid);
  if (!r.ok) throw new Error(`${sig} to ${pid} refused: ${r.message}`);
  done.push(`${sig} -> ${pid}`);
}

// The new master is the old one's child; QUIT it and the old master takes its
// pid file back (renames .oldbin), serving with its own workers.
async function quitNewMaster(run: HostRun, done: string[]): Promise<void> {
  const { state } = run;
  const f = await facts(run);
  const fromPidFile = f.master && f.master.pid !== state.oldPid && f.master.isNginxMaster && !f.master.zombie ? f.master.pid : undefined;
  const child = f.oldMaster?.pid === state.oldPid ? f.oldMaster.newMasterChild : f.master?.pid === state.oldPid ? f.master.newMasterChild : undefined;
  const newPid = state.newPid ?? fromPidFile ?? child;
  if (newPid !== undefined) {
    const r = await sendSignal(run.t, 'QUIT', newPid);
    if (r.ok) done.push(`QUIT -> new master ${newPid}`);
    else if (r.reason !== 'no-such-process' && r.reason !== 'zombie') throw new Error(`QUIT to the new master ${newPid} refused: ${r.message}`);
  }
  await poll(run, `the old master ${state.oldPid} owns the pid file again, with no .oldbin`, (g) =>
    g.master?.pid === state.oldPid && g.oldbinFile.state === 'absent' && (newPid === undefined || !g.master.children.some((c) => c.pid === newPid && !c.zombie)),
  );
}

async function restore(run: HostRun, done: string[]): Promise<void> {
  const { state } = run;
  if (!state.backup) throw new Error(`no backup of the old build was made, so ${state.target} cannot be restored`);
  await restoreFile(run.t, state.backup, state.target, state.oldSha);
  done.push(`restored ${state.target} from ${state.backup}`);
}

// The old master is gone (or going): the way back is a second hot upgrade, to
// the backup, with the same waits.
async function upgradeBack(run: HostRun, done: string[]): Promise<void> {
  const { state, host } = run;
  await poll(run, `the old master ${state.oldPid} has exited`, (f) => f.oldbinFile.state === 'absent' && !!f.master && f.master.pid !== state.oldPid);
  await restore(run, done);
  const f = await facts(run);
  const current = f.master!.pid;
  const base = { pidFile: host.nginx.pid_file, errorLog: host.nginx.error_log, errorLogSizeAtStart: f.errorLog.size ?? 0, pidFileCtimeAtStart: f.pidFile.ctime, oldPid: current };
  const wait = async (mode: WaitMode, timeoutMs: number) => {
    const r = await waitFor(run.t, { ...base, mode, timeoutMs });
    if (!r.ok) throw new Error(`${mode}: ${r.message}`);
    return r;
  };
  await signal(run, 'USR2', current, done);
  const ready = await wait('new-master-ready', 10_000);
  await signal(run, 'WINCH', current, done);
  await wait('old-workers-exited', 5 * 60_000);
  await signal(run, 'QUIT', current, done);
  await wait('old-master-exited', SETTLE_MS);
  state.oldPid = ready.newMasterPid ?? state.oldPid;
}

async function confirmServingOld(run: HostRun): Promise<void> {
  const { state } = run;
  const f = await poll(run, 'a master runs the old build with workers', (g) => !!g.master?.isNginxMaster && g.master.workers.length > 0, 5_000).catch(() => facts(run));
  const m = f.master;
  const problems: string[] = [];
  if (!m || !m.isNginxMaster || m.zombie) problems.push(`no live nginx master in ${run.host.nginx.pid_file}`);
  else {
    if (m.exeSha256 !== state.oldSha) problems.push(`master ${m.pid} runs sha256 ${short(m.exeSha256)}, not the old build ${short(state.oldSha)}`);
    if (!m.workers.length) problems.push(`master ${m.pid} has no workers`);
  }
  if (f.oldbinFile.state !== 'absent') problems.push(`${f.oldbinFile.path} is still there`);
  if (f.binary.sha256 !== state.oldSha) problems.push(`${f.binary.path} is sha256 ${short(f.binary.sha256)}, not the old build`);
  if (problems.length) throw new Error(problems.join('; '));
}
