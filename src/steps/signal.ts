// signal: to the right master, and only ever to a live nginx master (the
// script re-checks /proc/PID/cmdline on the host right before kill).
import type { SignalStep } from '../playbook/schema.js';
import { signalOf } from '../playbook/step.js';
import { parseSignal, signalCommand } from '../nginx/signal.js';
import { gatherFacts } from '../nginx/facts.js';
import { oldMasterText, type HostRun, type Phase } from '../run/host-run.js';
import { StepFailure } from '../errors.js';
import { change, check, type StepGen } from '../run/action.js';
import { waitBehind } from './wait.js';

// Entered before the signal is sent: if the link drops mid-send, rollback
// assumes the signal arrived, which is the safe side for every compensation.
const PHASE_AFTER: Partial<Record<string, Phase>> = { 'USR2/old-master': 'usr2', 'WINCH/old-master': 'winch', 'QUIT/old-master': 'quit', 'TERM/old-master': 'quit' };

export function* signal(run: HostRun, spec: SignalStep): StepGen {
  const { send, to } = signalOf(spec);
  const { state, host } = run;
  let pid: number | undefined;
  if (to === 'old-master') pid = state.oldPid || undefined; // unknown in an offline plan
  else if (to === 'new-master') pid = state.newPid;
  else {
    const n = host.nginx;
    // the master the pid file names now (a plan, which changed nothing, reads the one it found)
    pid = yield check<number | undefined>({
      description: `read which master ${n.pid_file} names now`,
      run: async (t) => {
        const f = await gatherFacts(t, { pidFile: n.pid_file, binary: n.binary, errorLog: n.error_log });
        return f.master?.isNginxMaster ? f.master.pid : undefined;
      },
      inPlan: { kind: 'check', description: `read which master ${n.pid_file} names now (pid ${run.facts.master?.pid ?? '?'} at the plan)`, run: async () => run.facts.master?.pid },
    });
  }
  // unknown in a plan until the wait after USR2 ran: the change then says so when it is made
  const target = pid;
  // The error log's size and the pid file's ctime that the wait after USR2
  // compares against were read with the host's facts: nothing since has
  // written to either, so they need no second read.
  yield change({
    description: `send ${send} to ${to === 'old-master' ? oldMasterText(run) : `the ${to.replace('-', ' ')}${target === undefined ? '' : ` (pid ${target})`}`}`,
    command: { script: 'src/remote/signal.sh', args: [send, String(target ?? '?')] },
    phase: PHASE_AFTER[`${send}/${to}`],
    run: async (t) => {
      if (target === undefined) throw new StepFailure(`cannot tell which process is the ${to}`);
      // the next wait goes right behind this signal's command, in one round trip
      const sent = await waitBehind(run, t, signalCommand(send, target));
      const r = parseSignal(send, target, sent.code, sent.stdout);
      if (!r.ok) throw new StepFailure(`${send} not sent to pid ${target}: ${r.message}`);
    },
  });
  return `${send} -> ${to} ${target}`;
}
