// signal: to the right master, and only ever to a live nginx master (the
// script re-checks /proc/PID/cmdline on the host right before kill).
import type { Step } from '../playbook/schema.js';
import { signalOf } from '../playbook/step-order.js';
import { sendSignal } from '../nginx/signal.js';
import { gatherFacts } from '../nginx/facts.js';
import { StepFailure, type HostRun, type Phase } from '../run/host-run.js';
import { waitBehind } from './wait.js';

// Set before the signal is sent: if the link drops mid-send, rollback assumes
// the signal arrived, which is the safe side for every compensation.
const PHASE_AFTER: Partial<Record<string, Phase>> = { 'USR2/old-master': 'usr2', 'WINCH/old-master': 'winch', 'QUIT/old-master': 'quit', 'TERM/old-master': 'quit' };

export async function signal(run: HostRun, step: Step): Promise<string> {
  const { send, to } = signalOf(step)!;
  const { state } = run;
  let pid: number | undefined;
  if (to === 'old-master') pid = state.oldPid;
  else if (to === 'new-master') pid = state.newPid;
  else pid = run.dryRun ? run.facts.master?.pid : (await currentMaster(run));
  if (pid === undefined && !run.dryRun) throw new StepFailure(`cannot tell which process is the ${to}`);
  // The error log's size and the pid file's ctime that the wait after USR2
  // compares against were read with the host's facts: nothing since has
  // written to either, so they need no second read.
  await run.act(`send ${send} to the ${to.replace('-', ' ')}${pid === undefined ? '' : ` (pid ${pid})`}`, async () => {
    const next = PHASE_AFTER[`${send}/${to}`];
    if (next) state.phase = next;
    const sending = sendSignal(run.t, send, pid!);
    // the next wait goes right behind this signal's command (sendSignal sends none for a pid it rejects)
    if (Number.isSafeInteger(pid) && pid! > 1) waitBehind(run);
    const r = await sending;
    if (!r.ok) throw new StepFailure(`${send} not sent to pid ${pid}: ${r.message}`);
  }, undefined);
  return `${send} -> ${to} ${pid}`;
}

async function currentMaster(run: HostRun): Promise<number | undefined> {
  const f = await gatherFacts(run.t, { pidFile: run.host.nginx.pid_file, binary: run.host.nginx.binary, errorLog: run.host.nginx.error_log });
  return f.master?.isNginxMaster ? f.master.pid : undefined;
}
