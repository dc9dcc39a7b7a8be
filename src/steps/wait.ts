// wait-for-workers: the loop runs on the host; one round trip per wait.
import type { WaitStep } from '../playbook/schema.js';
import { parseDuration } from '../playbook/duration.js';
import { WAIT_DEFAULTS } from '../playbook/vocabulary.js';
import { describeAlive, waitCommand, waitFor, waitResultOf, waitScriptArgs, type WaitArgs, type WaitResult } from '../nginx/wait.js';
import { runCommand } from '../remote/run.js';
import { settledQuietly, type Command, type ExecResult, type Transport } from '../transport/transport.js';
import { wait, type StepGen } from '../run/action.js';
import { oldMasterText, type HostRun } from '../run/host-run.js';
import { StepFailure } from '../errors.js';
import { settleMs, settleOf, watchNewMaster } from './settle.js';


function waitArgs(run: HostRun, spec: WaitStep, stepTimeout?: string): { timeout: string; args: WaitArgs } {
  const { state, host } = run;
  const timeout = spec.timeout ?? stepTimeout ?? WAIT_DEFAULTS[spec.until];
  return {
    timeout,
    args: {
      mode: spec.until,
      oldPid: state.oldPid,
      pidFile: host.nginx.pid_file,
      timeoutMs: parseDuration(timeout) ?? 10_000,
      errorLog: host.nginx.error_log,
      errorLogSizeAtStart: state.errorLogSize,
      pidFileCtimeAtStart: state.pidFileCtime,
    },
  };
}

/**
 * Runs a signal step's command; when the next step is a wait, that wait goes
 * to the host in the same sequence, behind the signal, to run as soon as the
 * signal was sent (and only if it was). The wait step then takes that result
 * instead of asking again: one round trip fewer per signal.
 */
export function waitBehind(run: HostRun, t: Transport, signal: Command): Promise<ExecResult> {
  const next = run.host.steps[run.step + 1];
  const spec = next?.['wait-for-workers'];
  let wait: Command | undefined;
  try {
    if (spec) wait = waitCommand(waitArgs(run, spec, next.timeout).args);
  } catch {
    // arguments the wait refuses: the wait step asks itself, and reports why
  }
  if (!wait) return runCommand(t, signal);
  const [sent, waited] = t.sequence([signal, wait]);
  // not run when the signal failed: its step reports that
  run.ahead = { step: run.step + 1, result: settledQuietly(waited!.then((r) => waitResultOf(t.host, r))) };
  return sent!;
}

export function* waitStep(run: HostRun, spec: WaitStep, stepTimeout?: string): StepGen {
  const { state } = run;
  const { timeout, args } = waitArgs(run, spec, stepTimeout);
  const old = oldMasterText(run);
  const what = { 'new-master-ready': 'the new master and its workers are up', 'old-workers-exited': `${old.replace(/^the old master/, "the old master's")} workers have exited`, 'old-master-exited': `${old} has exited and .oldbin is gone` }[spec.until];
  // An interrupt does not wait for a long wait to end (the executor abandons
  // it): the host is rolled back at once; the loop on the host only reads.
  const r: WaitResult = yield wait<WaitResult>({
    description: `wait up to ${timeout} until ${what}`,
    command: { script: 'src/remote/wait.sh', args: waitScriptArgs(args) },
    run: (t) => {
      const ahead = run.ahead?.step === run.step ? run.ahead.result : undefined;
      run.ahead = undefined;
      return ahead ?? waitFor(t, args);
    },
    planned: { ok: true, workers: [] },
  });
  if (!r.ok) {
    const alive = r.alive.length ? `; still alive: ${r.alive.map(describeAlive).join('; ')}` : '';
    throw new StepFailure(`${spec.until}: ${r.message}${alive}`);
  }
  if (spec.until === 'new-master-ready' && r.newMasterPid) state.newPid = r.newMasterPid;
  if (spec.until === 'old-master-exited') {
    state.phase = 'done';
    if (settleMs(spec) > 0 || state.systemd) {
      // an interrupt ends this watch early (the upgrade is complete), it does not fail the host
      const settled: string = yield wait({
        description: `${state.systemd ? `check within 2s that systemd unit ${state.systemd.unit} tracks the new master (MainPID) and is active, then ` : ''}watch the new master for ${settleOf(spec)}: still the master in ${run.host.nginx.pid_file}, alive, with workers, answering the verify steps' HTTP checks`,
        run: () => watchNewMaster(run, spec),
        planned: '',
        interruptible: false,
      });
      if (settled) return `${r.elapsedMs ?? 0}ms; ${settled}`;
    }
  }
  return spec.until === 'new-master-ready' ? `new master ${r.newMasterPid ?? '?'} with workers ${r.workers.join(',')}` : `${r.elapsedMs ?? 0}ms`;
}
