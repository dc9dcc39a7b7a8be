// One host, start to finish: connect, read facts, refuse or skip, run the
// steps, roll back on failure. Every path ends in exactly one result.
import { stepLabel, runStep } from '../steps/index.js';
import { stepKind } from '../playbook/step-order.js';
import type { Playbook } from '../playbook/schema.js';
import type { ResolvedHost } from '../playbook/resolved.js';
import { gatherFacts, type HostFacts } from '../nginx/facts.js';
import { UnreachableError, type Transport } from '../transport/transport.js';
import type { HostResult, StepResult } from './events.js';
import type { HostOutcome } from './fleet.js';
import { HostRun, Refusal, short, type RunContext } from './host-run.js';
import { discardStaged } from '../steps/copy-binary.js';
import { preflightRefusals } from './preflight.js';
import { rollback } from './rollback.js';

export interface HostDeps {
  playbook: Playbook;
  ctx: RunContext;
  connect: (host: ResolvedHost) => Promise<Transport>;
  batch: number;
  /** receives the run's record of this host (facts, actions) */
  onRecord?: (host: string, record: { facts?: HostFacts; actions: HostRun['actions'] }) => void;
}

export async function runHost(host: ResolvedHost, deps: HostDeps): Promise<HostOutcome> {
  const { ctx } = deps;
  const ev = ctx.events;
  const started = Date.now();
  const labels = host.steps.map(stepLabel);
  ev.emit({ type: 'host-start', host: host.name, batch: deps.batch, steps: labels });
  let nextStep = 0;
  const finish = (result: HostResult, message?: string, stepResult: StepResult = 'skipped'): HostOutcome => {
    for (; nextStep < labels.length; nextStep++) ev.emit({ type: 'step-end', host: host.name, step: nextStep, label: labels[nextStep], result: stepResult, ms: 0 });
    const outcome = { host: host.name, result, ms: Date.now() - started, message };
    ev.emit({ type: 'host-end', ...outcome });
    return outcome;
  };

  let t: Transport;
  const connectStart = Date.now();
  try {
    t = await deps.connect(host);
  } catch (err) {
    return finish('unreachable', err instanceof UnreachableError ? err.message : `cannot connect: ${(err as Error).message}`);
  }
  let run: HostRun | undefined;
  try {
    const n = host.nginx;
    const connectMs = Date.now() - connectStart;
    const facts = await gatherFacts(t, { pidFile: n.pid_file, binary: n.binary, errorLog: n.error_log });
    ev.emit({ type: 'host-facts', host: host.name, facts, connectMs, factsMs: Date.now() - connectStart - connectMs });
    const copy = host.steps.find((s) => s['copy-binary'])?.['copy-binary'];
    const upload = copy ? ctx.binaries.get(copy.src) : undefined;
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
    deps.onRecord?.(host.name, { facts, actions: run.actions });
    // Already on the target build: nothing to do, and nothing is touched.
    if (upload && m?.isNginxMaster && !facts.upgradeInProgress && m.exeSha256 === upload.sha256) {
      return finish('ok', `already running sha256 ${short(upload.sha256)}`);
    }
    const refusals = preflightRefusals(facts, upload, host.steps.some((s) => stepKind(s) === 'backup'));
    if (refusals.length) return finish('refused', refusals.join('; '));

    for (; nextStep < host.steps.length; nextStep++) {
      const step = host.steps[nextStep];
      const stepStart = Date.now();
      run.step = nextStep;
      ev.emit({ type: 'step-start', host: host.name, step: nextStep, label: labels[nextStep] });
      try {
        const message = await runStep(run, step);
        ev.emit({ type: 'step-end', host: host.name, step: nextStep, label: labels[nextStep], result: ctx.dryRun ? 'planned' : 'changed', ms: Date.now() - stepStart, message });
      } catch (err) {
        const message = (err as Error).message;
        ev.emit({ type: 'step-end', host: host.name, step: nextStep, label: labels[nextStep], result: 'failed', ms: Date.now() - stepStart, message });
        nextStep++;
        if (err instanceof Refusal && run.state.phase === 'clean') {
          await discardStaged(run);
          return finish('refused', `${labels[nextStep - 1]}: ${message}`);
        }
        return await fail(run, labels[nextStep - 1], message, deps, finish);
      }
    }
    return finish(ctx.dryRun ? 'planned' : 'changed', ctx.dryRun ? undefined : `now running sha256 ${short(run.state.newSha)}`);
  } catch (err) {
    // facts could not be read, or the link dropped mid-way
    const message = (err as Error).message;
    if (run && run.state.phase !== 'clean') return fail(run, 'connection', message, deps, finish);
    return finish(err instanceof UnreachableError ? 'unreachable' : 'failed', message);
  } finally {
    await t.close().catch(() => undefined);
  }
}

async function fail(run: HostRun, step: string, reason: string, deps: HostDeps, finish: (r: HostResult, m?: string) => HostOutcome): Promise<HostOutcome> {
  const ev = deps.ctx.events;
  const why = `${step}: ${reason}`;
  if (deps.ctx.dryRun) return finish('refused', why); // a plan that cannot go through is a refusal
  if ((deps.playbook.on_failure ?? 'rollback') === 'stop') {
    return finish('failed', `${why} (on_failure: stop: left as it is, phase ${run.state.phase}; see hotswap status)`);
  }
  const started = Date.now();
  ev.emit({ type: 'rollback-start', host: run.host.name, phase: run.state.phase, reason: why });
  try {
    const done = await rollback(run);
    ev.emit({ type: 'rollback-end', host: run.host.name, ok: true, ms: Date.now() - started, message: done });
    return finish('rolled_back', `${why}; rolled back: old build sha256 ${short(run.state.oldSha)} serving`);
  } catch (err) {
    const message = `${why}; ROLLBACK FAILED from phase ${run.state.phase}: ${(err as Error).message}. A person must check ${run.host.name} now: backup ${run.state.backup ?? 'none'}, old build sha256 ${run.state.oldSha}`;
    ev.emit({ type: 'rollback-end', host: run.host.name, ok: false, ms: Date.now() - started, message });
    return finish('rollback_failed', message);
  }
}
