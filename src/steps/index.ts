// The five step kinds, dispatched by name; each knows nothing about SSH, nor
// how it is run: it yields actions to the executor (src/run/executor.ts).
import type { Step } from '../playbook/schema.js';
import { signalOf, stepOf } from '../playbook/step.js';
import type { HostRun } from '../run/host-run.js';
import type { StepGen } from '../run/action.js';
import { backup } from './backup.js';
import { copyBinary } from './copy-binary.js';
import { signal } from './signal.js';
import { waitStep } from './wait.js';
import { verify } from './verify.js';

export function stepLabel(step: Step): string {
  if (step.name) return step.name;
  const { kind, spec } = stepOf(step);
  if (kind === 'signal') {
    const s = signalOf(spec);
    return `signal ${s.send} to the ${s.to.replace('-', ' ')}`;
  }
  if (kind === 'wait-for-workers') return `wait until ${spec.until}`;
  return kind;
}

/** One step as a generator of actions (the executor walks it); it returns a one-line summary of what it did. */
export function stepActions(run: HostRun, step: Step): StepGen {
  const s = stepOf(step);
  switch (s.kind) {
    case 'backup':
      return backup(run, s.spec);
    case 'copy-binary':
      return copyBinary(run, s.spec);
    case 'signal':
      return signal(run, s.spec);
    case 'wait-for-workers':
      return waitStep(run, s.spec, step.timeout);
    case 'verify':
      return verify(run, s.spec);
  }
}
