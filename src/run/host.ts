// One host, start to finish: connect, lock, read facts and the journal,
// refuse or skip, run the steps, roll back on failure, an interrupt or a lost
// link. Every path ends in exactly one result, with the lock released.
import { stepLabel, stepActions } from '../steps/index.js';
import { parseDuration } from '../playbook/duration.js';
import { modeOf, POLICY, runStep, type Deadline } from './executor.js';
import { stepKind } from '../playbook/step.js';
import type { Playbook } from '../playbook/schema.js';
import type { ResolvedHost } from '../playbook/resolved.js';
import { factsCommand, factsOf, type HostFacts } from '../nginx/facts.js';
import { NotRunError, UnreachableError, type Transport } from '../transport/transport.js';
import type { HostResult, StepResult } from './events.js';
import type { HostOutcome } from './fleet.js';
import { HostRun, short, type RunContext } from './host-run.js';
import { Interrupted, Refusal } from '../errors.js';
import { discardStaged, dropUpload, startUpload, uploadEarly, type Upload } from '../steps/copy-binary.js';
import { preflightRefusals } from './preflight.js';
import { systemdPreflight } from './systemd-probe.js';
import { checkMasterLayout, resolveLayout, type HostLayout } from './host-layout.js';
import { rollback } from './rollback.js';
import { describeRollbackPaths } from '../plan/rollback-plan.js';
import { backupKeep } from '../steps/restore-files.js';
import { journalIn, journalPath, lastRun, readJournalCommand, type JournalEntry } from './journal.js';
import { LockHeld, lockTaken, ownerFor, releaseLock, takeLockCommand } from './lock.js';
import { okStdout } from '../remote/run.js';

export interface HostDeps {
  playbook: Playbook;
  ctx: RunContext;
  connect: (host: ResolvedHost) => Promise<Transport>;
  batch: number;
}

type Finish = (result: HostResult, message?: string) => HostOutcome;

export async function runHost(host: ResolvedHost, deps: HostDeps): Promise<HostOutcome> {
  const { ctx } = deps;
  const ev = ctx.events;
  const policy = POLICY[modeOf(ctx)];
  const started = Date.now();
  const labels = host.steps.map(stepLabel);
  ev.emit({ type: 'host-start', host: host.name, batch: deps.batch, steps: labels });
  let nextStep = 0;
  const finish: Finish = (result, message) => {
    for (; nextStep < labels.length; nextStep++) ev.emit({ type: 'step-end', host: host.name, step: nextStep, label: labels[nextStep], result: 'skipped' as StepResult, ms: 0 });
    const outcome = { host: host.name, result, ms: Date.now() - started, message };
    ev.emit({ type: 'host-end', ...outcome });
    return outcome;
  };

  const connectStart = Date.now();
  let t: Transport;
  try {
    t = await deps.connect(host);
  } catch (err) {
    return finish('unreachable', err instanceof UnreachableError ? err.message : `cannot connect: ${(err as Error).message}`);
  }
  const connectMs = Date.now() - connectStart;
  // a playbook naming only the binary: the other paths come from the host, before the lock (which lives beside the error log)
  let layout: HostLayout | undefined;
  if (host.nginx.derive?.length) {
    try {
      layout = await resolveLayout(t, host);
    } catch (err) {
      await t.close().catch(() => undefined);
      return finish(err instanceof UnreachableError ? 'unreachable' : 'failed', `reading nginx's paths from the host: ${(err as Error).message}`);
    }
    ev.emit({ type: 'layout', host: host.name, lines: layout.lines });
    for (const message of layout.warnings) ev.emit({ type: 'warning', host: host.name, step: -1, message });
    if (layout.problems.length) {
      await t.close().catch(() => undefined);
      return finish('refused', layout.problems.join('; '));
    }
    host = layout.host;
  }
  let locked = false;
  let run: HostRun | undefined;
  // the new build, sent while the lock and the facts are read (see uploadEarly)
  let early: Promise<Upload | undefined> | undefined;
  try {
    const n = host.nginx;
    const copy = host.steps.find((s) => s['copy-binary'])?.['copy-binary'];
    const upload = copy ? ctx.binaries.get(copy.src) : undefined;
    const paths = { pidFile: n.pid_file, binary: n.binary, errorLog: n.error_log };
    let journal: JournalEntry[] | undefined;
    let facts: HostFacts;
    let factsStart = Date.now();
    if (policy.applies) {
      // the lock, and the facts right behind it in the same round trip: they are only used once the lock is held
      const [lockR, factsR] = t.sequence([takeLockCommand(n, ownerFor(ctx.runId, ctx.command), !!ctx.breakLock), factsCommand(paths)]);
      const taking = lockR!.then((r) => lockTaken(n, r));
      early = uploadEarly(t, ctx, n.binary, upload, taking).catch(() => undefined);
      try {
        const taken = await taking;
        locked = true;
        journal = taken.journal;
        if (taken.broke) ev.emit({ type: 'warning', host: host.name, step: -1, message: taken.broke });
      } catch (err) {
        if (err instanceof LockHeld) return finish('refused', err.message);
        throw err;
      }
      factsStart = Date.now();
      facts = factsOf(t.host, await factsR!);
    } else {
      // a plan reads the journal behind the facts: one shell, one round trip
      const [factsR, journalR] = t.sequence([factsCommand(paths), readJournalCommand(n)]);
      facts = factsOf(t.host, await factsR!);
      journal = await journalR!.then((r) => journalIn(okStdout(r), 'journal'), notRunIsFine);
    }
    ev.emit({ type: 'host-facts', host: host.name, facts, connectMs, factsMs: Date.now() - factsStart });
    // A run that was cut off mid-upgrade left the truth in the journal: never start over blindly.
    const previous = lastRun(journal ?? []);
    if (previous && !previous.finished && previous.last.phase !== 'clean' && previous.last.event !== 'start') {
      return finish('refused', `an interrupted run (${previous.run}, started ${previous.started}) left this host mid-upgrade, in phase "${previous.last.phase}" while: ${previous.last.action ?? previous.last.event} (${journalPath(n)}): see \`hotswap status\`, undo it with \`hotswap rollback\``);
    }
    const m = facts.master;
    run = new HostRun(host, t, ctx, facts, {
      phase: 'clean',
      oldPid: m?.pid ?? 0,
      target: m?.execPath ?? n.binary,
      oldSha: m?.exeSha256 ?? '',
      newSha: upload?.sha256 ?? facts.binary.sha256 ?? '',
      errorLogSize: facts.errorLog.size ?? 0,
      pidFileCtime: facts.pidFile.ctime,
    });
    run.lockHeld = locked;
    // Already on the target build: nothing to do, and nothing is touched.
    if (upload && m?.isNginxMaster && !facts.upgradeInProgress && m.exeSha256 === upload.sha256) {
      return finish('ok', `already running sha256 ${short(upload.sha256)}`);
    }
    const sent = await early;
    const refusals = preflightRefusals(facts, upload, host.steps.some((s) => stepKind(s) === 'backup'), sent !== undefined);
    // only when the master's cgroup names a systemd service: what systemd would do at the QUIT
    const moved = layout ? checkMasterLayout(layout, facts.master) : '';
    if (moved) refusals.push(moved);
    if (!refusals.length) {
      const sd = await systemdPreflight(run.t, facts, n.pid_file);
      refusals.push(...sd.refusals);
      if (sd.ref) run.state.systemd = sd.ref;
    }
    if (refusals.length) return finish('refused', refusals.join('; '));
    if (copy && policy.applies) await startUpload(run, copy, sent);

    for (; nextStep < host.steps.length; nextStep++) {
      const stepStart = Date.now();
      run.step = nextStep;
      ev.emit({ type: 'step-start', host: host.name, step: nextStep, label: labels[nextStep] });
      try {
        if (ctx.stopping?.()) throw new Interrupted();
        const step = host.steps[nextStep];
        const message = await runStep(run, stepActions(run, step), deadlineOf(step.timeout));
        ev.emit({ type: 'step-end', host: host.name, step: nextStep, label: labels[nextStep], result: policy.stepDone, ms: Date.now() - stepStart, message });
      } catch (err) {
        const message = (err as Error).message;
        ev.emit({ type: 'step-end', host: host.name, step: nextStep, label: labels[nextStep], result: 'failed', ms: Date.now() - stepStart, message });
        nextStep++;
        return await failed(run, labels[nextStep - 1], err as Error, deps, finish);
      }
    }
    if (!policy.applies) {
      const { state } = run;
      ev.emit({ type: 'rollback-plan', host: host.name, paths: describeRollbackPaths({ target: state.target, backup: state.backup, oldPid: state.oldPid || undefined, pidFile: n.pid_file, oldSha: state.oldSha, unit: state.systemd?.unit, modules: state.modules, diverted: state.diverted, keep: backupKeep(host) }) });
    }
    return await run.end(finish(policy.hostDone, policy.applies ? `now running sha256 ${short(run.state.newSha)}` : undefined));
  } catch (err) {
    // facts or the journal could not be read, or the link dropped before any change
    const message = (err as Error).message;
    if (run && run.state.phase !== 'clean') return failed(run, 'connection', err as Error, deps, finish);
    return finish(err instanceof UnreachableError ? 'unreachable' : 'failed', message);
  } finally {
    // an upload never renamed into place (a step before copy-binary failed, on_failure: stop)
    if (run?.state.staged) await discardStaged(run).catch(() => undefined);
    // a plan's private staging dirs
    for (const dir of run?.scratch.splice(0) ?? []) await run!.t.exec(['rm', '-rf', '--', dir]).catch(() => undefined);
    const sent = await early;
    if (sent && sent !== run?.upload) await dropUpload(t, sent).catch(() => undefined);
    if (locked) await releaseLock(run?.t ?? t, host.nginx, ctx.runId, run?.closingLine).catch(() => undefined);
    await (run?.t ?? t).close().catch(() => undefined);
  }
}

async function failed(run: HostRun, step: string, err: Error, deps: HostDeps, finish: Finish): Promise<HostOutcome> {
  const { ctx } = deps;
  const why = `${step}: ${err.message}`;
  if (POLICY[run.mode].failureIsRefusal) return finish('refused', why); // a plan that cannot go through is a refusal
  if (err instanceof Refusal && run.state.phase === 'clean') {
    await discardStaged(run);
    return run.end(finish('refused', why));
  }
  if (err instanceof Interrupted && run.state.phase === 'clean') {
    await discardStaged(run);
    return run.end(finish('skipped', 'interrupted before any change'));
  }
  // The link dropped: get it back (with backoff) before anything else.
  if (err instanceof UnreachableError && !(await reconnect(run, deps))) {
    return finish('rollback_failed', `${why}; the connection could not be restored with the host at phase "${run.state.phase}" (its journal ${journalPath(run.host.nginx)} has the state). Recover with: hotswap rollback ${ctx.playbookFile ?? '<playbook>'} --limit ${run.host.name}`);
  }
  if ((deps.playbook.on_failure ?? 'rollback') === 'stop' && !(err instanceof Interrupted)) {
    return run.end(finish('failed', `${why} (on_failure: stop: left as it is at phase "${run.state.phase}"; see hotswap status)`));
  }
  return rollBack(run, why, finish);
}

async function rollBack(run: HostRun, why: string, finish: Finish): Promise<HostOutcome> {
  const ev = run.ctx.events;
  const started = Date.now();
  ev.emit({ type: 'rollback-start', host: run.host.name, phase: run.state.phase, reason: why });
  try {
    const done = await rollback(run);
    ev.emit({ type: 'rollback-end', host: run.host.name, ok: true, ms: Date.now() - started, message: done });
    const cold = run.state.coldStarted ? ` again after a cold start of systemd unit ${run.state.systemd?.unit} (nginx had gone down: connections were dropped)` : '';
    return run.end(finish('rolled_back', `${why}; rolled back: old build sha256 ${short(run.state.oldSha)} serving${cold}`));
  } catch (err) {
    const message = `${why}; ROLLBACK FAILED from phase "${run.state.phase}": ${(err as Error).message}. A person must check ${run.host.name} now: backup ${run.state.backup ?? 'none'}, old build sha256 ${run.state.oldSha}; journal ${journalPath(run.host.nginx)}`;
    ev.emit({ type: 'rollback-end', host: run.host.name, ok: false, ms: Date.now() - started, message });
    return run.end(finish('rollback_failed', message));
  }
}

// A step's `timeout` bounds the whole step; a wait that takes it as its own
// timeout gets a second more, so its own report (what is still alive) wins.
function deadlineOf(timeout: string | undefined): Deadline | undefined {
  const ms = timeout ? parseDuration(timeout) : undefined;
  return ms === undefined ? undefined : { at: Date.now() + ms + 1000, text: timeout! };
}

/** A command skipped because the one before it failed: that one's error is the one to report. */
function notRunIsFine(e: unknown): undefined {
  if (e instanceof NotRunError) return undefined;
  throw e;
}

const BACKOFF_MS = [500, 1000, 2000, 4000];

async function reconnect(run: HostRun, deps: HostDeps): Promise<boolean> {
  for (const ms of BACKOFF_MS) {
    await new Promise((r) => setTimeout(r, ms));
    try {
      const t = await deps.connect(run.host);
      await run.t.close().catch(() => undefined);
      run.t = t;
      run.warn(`the connection was lost and restored after a ${ms}ms wait`);
      return true;
    } catch {
      // try again, longer
    }
  }
  return false;
}
