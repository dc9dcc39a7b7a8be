// The one executor of a host's actions, for a plan, an apply and a rollback
// alike. It alone reads the mode (once, in modeOf), and for every action a
// step or a rollback yields it: records and emits it, withholds it in a plan,
// journals a change on the host before making it (in the same round trip),
// enters the phase the change starts, and bounds it by the step's timeout
// and the run's abort signal. Steps never ask how they are run.
import { abortable } from './abort.js';
import type { HostRun } from './host-run.js';
import { StepFailure } from '../errors.js';
import type { Action, StepGen } from './action.js';
import type { HostResult, StepResult } from './events.js';
import type { Mode } from './types.js';

export { modeOf, type Mode } from './types.js';

/** What the host's run does differently per mode, decided here and nowhere else. */
export interface Policy {
  /** take the host's lock (and read the facts behind it), send the build early, journal */
  applies: boolean;
  /** a step that went through */
  stepDone: StepResult;
  /** the host when every step went through */
  hostDone: HostResult;
  /** a plan that cannot go through is a refusal; an apply rolls back */
  failureIsRefusal: boolean;
}

export const POLICY: Record<Mode, Policy> = {
  plan: { applies: false, stepDone: 'planned', hostDone: 'planned', failureIsRefusal: true },
  offline: { applies: false, stepDone: 'planned', hostDone: 'planned', failureIsRefusal: true },
  apply: { applies: true, stepDone: 'changed', hostDone: 'changed', failureIsRefusal: false },
};

/** A deadline for the step in flight: its `timeout`, a bound on the whole step. */
export interface Deadline {
  at: number;
  text: string;
}

export async function perform<T>(run: HostRun, a: Action<T>, deadline?: Deadline): Promise<T> {
  const plan = run.mode === 'plan';
  const action = plan && a.inPlan ? a.inPlan : a;
  // offline: no host to read either; the actions an apply would take, as it would take them
  const withheld = run.mode === 'offline' || (plan && action.kind !== 'check');
  if (deadline && Date.now() >= deadline.at) throw new StepFailure(`the step's timeout (${deadline.text}) was reached before: ${action.description}`);
  run.record(action.description, action.kind === 'change', withheld);
  if (withheld) return action.planned as T;
  if (action.kind === 'change') {
    // Not abandoned on an interrupt or a timeout: a change in flight runs to its
    // end (signals and renames are quick), so the rollback knows what was done.
    // The journal line says the phase the host was in when this was about to happen.
    return run.journaled(action.description, () => {
      if (action.phase) run.state.phase = action.phase;
      return action.run(run.t, new AbortController().signal);
    });
  }
  const signal = action.interruptible === false ? undefined : run.abort;
  // a read given up on (an interrupt, the step's timeout) is told to stop asking the host
  const stop = new AbortController();
  try {
    return await bounded(abortable(signal, action.run(run.t, stop.signal)), deadline, action.description);
  } finally {
    stop.abort();
  }
}

function bounded<T>(p: Promise<T>, deadline: Deadline | undefined, what: string): Promise<T> {
  if (!deadline) return p;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new StepFailure(`the step's timeout (${deadline.text}) was reached during: ${what}`)), Math.max(0, deadline.at - Date.now()));
    p.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

/** Walks one step: each action it yields is performed and its result handed back (a failure is thrown into it). */
export async function runStep(run: HostRun, gen: StepGen, deadline?: Deadline): Promise<string> {
  let next = gen.next();
  while (!next.done) {
    let value: unknown;
    try {
      value = await perform(run, next.value, deadline);
    } catch (err) {
      next = gen.throw(err);
      continue;
    }
    next = gen.next(value);
  }
  return next.value;
}
