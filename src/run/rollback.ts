// Automatic rollback, and `hotswap rollback`: the plan for the phase the
// upgrade reached (src/plan/rollback-plan.ts), run action by action by the
// executor that runs the steps, so each change is journaled on the host before it is made and
// reported like any step's. It always ends with the old build serving from the
// old file, with no .oldbin left; any doubt at the end is a failed rollback:
// a person is needed, and the message says what to do.
import { gatherFacts, type HostFacts } from '../nginx/facts.js';
import { sendSignal, type NginxSignal } from '../nginx/signal.js';
import { stopUsr2Child } from '../nginx/stop-child.js';
import { waitFor } from '../nginx/wait.js';
import { WAIT_DEFAULTS, type WaitUntil } from '../playbook/vocabulary.js';
import { parseDuration } from '../playbook/duration.js';
import { restoreFile, restoredText } from '../steps/file-ops.js';
import { discardStaged } from '../steps/copy-binary.js';
import { commandLine } from '../transport/quote.js';
import { describeRollback, extrasOf, rollbackPlan, ROLLBACK_WAIT_MS, type RollbackAction } from '../plan/rollback-plan.js';
import { backupKeep, pruneAfterRollback, restoreModules, undivert } from '../steps/restore-files.js';
import { short, type HostRun } from './host-run.js';
import { perform } from './executor.js';
import { readUnit, systemctlArgv, type UnitRef } from './systemd-probe.js';
import { describeUnit } from '../nginx/systemd.js';

export async function rollback(run: HostRun): Promise<string> {
  run.rollingBack = true; // an interrupt no longer abandons anything: the host must end serving
  const done: string[] = [];
  await discardStaged(run);
  if (run.state.phase === 'clean') return 'nothing had changed';
  let restoreError: Error | undefined;
  for (const a of rollbackPlan(run.state.phase, extrasOf(values(run)))) {
    const { description, changes } = describeRollback(a, values(run));
    const kind = changes ? 'change' : 'check';
    if (a.kind === 'restore' || a.kind === 'restore-modules') {
      // a failed restore does not keep the processes from being put back: the old build must serve either way
      await perform(run, { kind, description, run: () => (a.kind === 'restore' ? restore(run, done) : restoreModules(run, done)) }).catch((err: Error) => (restoreError ??= err));
      continue;
    }
    await perform(run, { kind, description, run: () => STEPS[a.kind](run, done) });
  }
  if (restoreError) throw new Error(`the old build serves again, but ${run.state.target} could not be restored from ${run.state.backup ?? 'a backup'}: ${restoreError.message}`);
  return done.join('; ');
}

function values(run: HostRun) {
  const { state } = run;
  return { target: state.target, backup: state.backup, oldPid: state.oldPid || undefined, newPid: state.newPid, pidFile: run.host.nginx.pid_file, oldSha: state.oldSha, unit: state.systemd?.unit, modules: state.modules, diverted: state.diverted, keep: backupKeep(run.host) };
}

type Runner = (run: HostRun, done: string[]) => Promise<void>;

const STEPS: Record<Exclude<RollbackAction['kind'], 'restore' | 'restore-modules'>, Runner> = {
  undivert,
  prune: pruneAfterRollback,
  'hup-old': (run, done) => signal(run, 'HUP', run.state.oldPid, done),
  'wait-old-workers': async (run) => {
    const old = run.state.oldPid;
    await poll(run, `the old master ${old} has workers again`, (f) => workersOf(f, old) > 0, ROLLBACK_WAIT_MS.oldWorkers);
  },
  'stop-new': stopNewMaster,
  'wait-old-back': async (run) => {
    const { oldPid } = run.state;
    await poll(run, `the old master ${oldPid} owns the pid file again, with no .oldbin`, (g) => g.master?.pid === oldPid && g.oldbinFile.state === 'absent' && !g.master.usr2Child, ROLLBACK_WAIT_MS.oldBack);
  },
  'wait-old-gone': async (run) => {
    const { oldPid } = run.state;
    await poll(run, `the old master ${oldPid} has exited`, (f) => f.oldbinFile.state === 'absent' && f.master?.pid !== oldPid && !(f.oldMaster?.pid === oldPid && !f.oldMaster.zombie), ROLLBACK_WAIT_MS.oldGone);
  },
  'upgrade-back': upgradeBack,
  confirm: async (run) => confirmServingOld(run),
};

async function facts(run: HostRun): Promise<HostFacts> {
  const n = run.host.nginx;
  return gatherFacts(run.t, { pidFile: n.pid_file, binary: n.binary, errorLog: n.error_log });
}

function workersOf(f: HostFacts, pid: number): number {
  const m = f.master?.pid === pid ? f.master : f.oldMaster?.pid === pid ? f.oldMaster : null;
  return m ? m.workers.length : 0;
}

async function poll(run: HostRun, what: string, ok: (f: HostFacts) => boolean, timeoutMs: number): Promise<HostFacts> {
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

async function restore(run: HostRun, done: string[]): Promise<void> {
  const { state } = run;
  if (!state.backup) throw new Error(`no backup of the old build was made, so ${state.target} cannot be restored`);
  const how = await restoreFile(run.t, state.backup, state.target, state.oldSha);
  done.push(restoredText(how, state.backup, state.target));
}

// The new master is the old one's child. One that became ready is QUIT, and
// the old master takes its pid file back (renames .oldbin), serving with its
// own workers. One that never became ready (a build that hangs at start) may
// never answer QUIT: it is stopped, TERM then KILL, and only when the host
// proves it is the process USR2 started (a live child of the old master that
// has exec'd). Either way the old master then renames .oldbin back.
async function stopNewMaster(run: HostRun, done: string[]): Promise<void> {
  const { state } = run;
  const f = await facts(run);
  const old = f.oldMaster?.pid === state.oldPid ? f.oldMaster : f.master?.pid === state.oldPid ? f.master : undefined;
  const fromPidFile = f.master && f.master.pid !== state.oldPid && f.master.isNginxMaster && !f.master.zombie ? f.master.pid : undefined;
  const ready = state.newPid ?? fromPidFile ?? old?.newMasterChild;
  if (ready !== undefined) {
    const r = await sendSignal(run.t, 'QUIT', ready);
    if (r.ok) done.push(`QUIT -> new master ${ready}`);
    else if (r.reason !== 'no-such-process' && r.reason !== 'zombie' && r.reason !== 'not-nginx-master') throw new Error(`QUIT to the new master ${ready} refused: ${r.message}`);
    // a master that ignores QUIT is stopped like one that never became ready
    const gone = await poll(run, `the new master ${ready} has exited`, (g) => !(g.oldMaster ?? g.master)?.usr2Child, ROLLBACK_WAIT_MS.oldBack).then(() => true, () => false);
    if (gone) return;
  }
  const g = ready === undefined ? f : await facts(run);
  const parent = g.oldMaster?.pid === state.oldPid ? g.oldMaster : g.master?.pid === state.oldPid ? g.master : undefined;
  const child = parent?.usr2Child;
  if (child === undefined) return;
  const r = await stopUsr2Child(run.t, state.oldPid, child, ROLLBACK_WAIT_MS.stopGraceS);
  if (!r.ok) throw new Error(`the process USR2 started (pid ${child}) could not be stopped: ${r.message}`);
  if (r.how !== 'gone') done.push(`stopped pid ${child}, the process USR2 started, which ${ready === undefined ? 'never became a ready master' : 'did not answer QUIT'} (${r.how === 'TERM' ? 'TERM' : `TERM, then KILL after ${ROLLBACK_WAIT_MS.stopGraceS}s`})`);
}

// The old master is gone: the way back is a second hot upgrade, to the file
// already restored, with the same waits. When no master is left at all (the
// new one died after the old one exited), nothing is started blindly: the
// message says exactly how to start the old build.
async function upgradeBack(run: HostRun, done: string[]): Promise<void> {
  const { state, host } = run;
  const f = await facts(run);
  const m = f.master;
  if (!m || !m.isNginxMaster || m.zombie) {
    if (state.systemd) return coldStart(run, state.systemd, done);
    throw new Error(nothingServes(run, f));
  }
  const current = m.pid;
  const base = { pidFile: host.nginx.pid_file, errorLog: host.nginx.error_log, errorLogSizeAtStart: f.errorLog.size ?? 0, pidFileCtimeAtStart: f.pidFile.ctime, oldPid: current };
  // the waits an upgrade's steps have by default
  const wait = async (mode: WaitUntil) => {
    const r = await waitFor(run.t, { ...base, mode, timeoutMs: parseDuration(WAIT_DEFAULTS[mode])! });
    if (!r.ok) throw new Error(`${mode}: ${r.message}`);
    return r;
  };
  await signal(run, 'USR2', current, done);
  const ready = await wait('new-master-ready');
  await signal(run, 'WINCH', current, done);
  await wait('old-workers-exited');
  await signal(run, 'QUIT', current, done);
  await wait('old-master-exited');
  state.oldPid = ready.newMasterPid ?? state.oldPid;
}

// Nothing serves and a systemd service runs nginx: with no master left there
// is no hot way back, and systemd is what must own the next master (a master
// started by hand would be outside the unit). The old file was restored first.
async function coldStart(run: HostRun, ref: UnitRef, done: string[]): Promise<void> {
  const { state, host } = run;
  const start = systemctlArgv(ref, ['start', '--', ref.unit]);
  run.warn(`nginx is down: no live master in ${host.nginx.pid_file}; connections open when it went down were dropped. A cold start is the only way back to serving: ${commandLine(start)}, with the old build restored in ${state.target}`);
  const r = await run.t.exec(start, { timeoutMs: 90_000 });
  if (r.code !== 0) throw new Error(`nothing serves, and ${commandLine(start)} failed (exit ${r.code}): ${r.stderr.trim().slice(0, 300)}; see systemctl status ${ref.unit} and journalctl -u ${ref.unit}`);
  const f = await poll(run, `a master started by ${ref.unit} runs with workers`, (g) => !!g.master?.isNginxMaster && !g.master.zombie && g.master.workers.length > 0, ROLLBACK_WAIT_MS.oldBack);
  const master = f.master!.pid;
  const unit = await readUnit(run.t, ref);
  if (unit.activeState !== 'active' || unit.mainPid !== master) throw new Error(`after ${commandLine(start)}: systemd unit ${describeUnit(unit)}, but the master in ${host.nginx.pid_file} is ${master}`);
  state.oldPid = master;
  state.coldStarted = true;
  done.push(`cold start: ${commandLine(start)} (master ${master}, MainPID of ${ref.unit}); connections were dropped while nginx was down`);
}

/** The exact words for a host where nothing serves: what is on disk, and the command line to start it with. */
function nothingServes(run: HostRun, f: HostFacts): string {
  const { state, host } = run;
  const before = run.facts.master;
  const start = before?.args ? `cd ${commandLine([before.cwd ?? '/'])} && ${commandLine([before.execPath ?? before.args.argv0, ...before.args.words])}` : `${state.target} with its usual arguments`;
  const log = f.errorLog.tail.slice(-3).join(' | ');
  return `NOTHING SERVES: no live nginx master in ${host.nginx.pid_file} (the new master${state.newPid ? ` ${state.newPid}` : ''} is gone)${log ? `; the error log's last lines: ${log}` : ''}. ${state.target} holds the old build again (sha256 ${short(state.oldSha)}). Start nginx now: with its service manager if one runs it (e.g. systemctl start nginx), else as it ran before: ${start}`;
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
