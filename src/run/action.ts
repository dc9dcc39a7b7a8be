// What a step (or a rollback) asks of a host, as data: the executor
// (executor.ts) alone decides whether it runs, is withheld (a plan), is
// journaled first (a change), and how long it may take.
import type { Transport } from '../transport/transport.js';
import type { Phase } from './types.js';

/**
 * - `change`: changes the host; journaled on the host before it is made;
 *   a plan withholds it ("would change").
 * - `check`: a read a plan performs too ("checked now").
 * - `wait`: a read that only means something once the changes before it
 *   happened; a plan withholds it ("would wait/check").
 */
export type ActionKind = 'change' | 'check' | 'wait';

export interface Action<T = unknown> {
  kind: ActionKind;
  /** what it does, in the operator's words, with the resolved values */
  description: string;
  /** the exact remote command: the script (by name) and its positional arguments */
  command?: { script: string; args: readonly string[] };
  /** does it, on the host's transport; `stop` aborts once the executor no longer waits for it (a timeout, an interrupt) */
  run(t: Transport, stop: AbortSignal): Promise<T>;
  /** what a plan gets back for a change or a wait it withholds */
  planned?: T;
  /** a plan performs this instead (e.g. stages the build in a private temp dir outside the nginx tree) */
  inPlan?: Action<T>;
  /** the upgrade phase this change enters: set before it is sent, so a lost link assumes it arrived */
  phase?: Phase;
  /** false: an interrupt does not abandon it (it ends itself early, e.g. the watch of the new master) */
  interruptible?: boolean;
}

/** A step: reads the run's facts and state, yields actions, gets each one's result back, returns a one-line summary. */
export type StepGen = Generator<Action<any>, string, any>;

export const change = <T>(a: Omit<Action<T>, 'kind'>): Action<T> => ({ kind: 'change', ...a });
export const check = <T>(a: Omit<Action<T>, 'kind'>): Action<T> => ({ kind: 'check', ...a });
export const wait = <T>(a: Omit<Action<T>, 'kind'>): Action<T> => ({ kind: 'wait', ...a });
