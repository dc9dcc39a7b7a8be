// A step's kind, read once: every consumer asks here rather than probing keys.
import type { SignalStep, Step, StepOf, StepSpecs } from './schema.js';
import { DEFAULT_SIGNAL_TARGET, STEP_KINDS, type SignalName, type SignalTarget, type StepKind } from './vocabulary.js';

/** A step as its kind and that kind's spec: switch on `kind` and `spec` has the right type. */
export type TaggedStep = { [K in StepKind]: { kind: K; spec: StepSpecs[K] } }[StepKind];

export function stepKind(step: Step): StepKind {
  const kind = STEP_KINDS.find((k) => step[k] !== undefined);
  // the schema requires exactly one: a step without one never got past validation
  if (!kind) throw new TypeError('a step without a kind');
  return kind;
}

export function stepOf(step: Step): TaggedStep {
  const kind = stepKind(step);
  return { kind, spec: step[kind] } as TaggedStep;
}

/** The signal and the master it goes to (defaults: vocabulary.ts DEFAULT_SIGNAL_TARGET). */
export function signalOf(step: StepOf<'signal'> | SignalStep): { send: SignalName; to: SignalTarget } {
  const s = typeof step === 'object' && 'signal' in step ? step.signal : step;
  const send = typeof s === 'string' ? s : s.send;
  const to = typeof s === 'string' ? undefined : s.to;
  return { send, to: to ?? DEFAULT_SIGNAL_TARGET[send] };
}
