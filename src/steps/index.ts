// The five step kinds, dispatched by name; each knows nothing about SSH, nor
// how it is run: it yields actions to the executor (src/run/executor.ts).
import type { Step } from '../playbook/schema.js';
import { signalOf, stepKind } from '../playbook/step-order.js';
import type { HostRun } from '../run/host-run.js';
import type { StepGen } from '../run/action.js';
import { backup } from './backup.js';
import { copyBinary } from './copy-binary.js';
import { signal } from './signal.js';
import { waitStep } from './wait.js';
import { verify } from './verify.js';

export function stepLabel(step: Step): string {
  if (step.name) return step.name;
  const kind = stepKind(step);
  if (kind === 'signal') {
    const s = signalOf(step)!;
    return `signal ${s.send} to the ${s.to.replace('-', ' ')}`;
  }
  if (kind === 'wait-for-workers') return `wait until ${step['wait-for-workers']!.until}`;
  return kind ?? 'step';
}

/** One step as a generator of actions (the executor walks it); it returns a one-line summary of what it did. */
export function stepActions(run: HostRun, step: Step): StepGen {
  switch (stepKind(step)) {
    case 'backup':
      return backup(run, step.backup!);
    case 'copy-binary':
      return copyBinary(run, step['copy-binary']!);
    case 'signal':
      return signal(run, step);
    case 'wait-for-workers':
      return waitStep(run, step['wait-for-workers']!, step.timeout);
    case 'verify':
      return verify(run, step.verify!);
    default:
      throw new Error('a step without a kind');
  }
}
