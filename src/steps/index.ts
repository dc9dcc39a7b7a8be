// The five step kinds, dispatched by name; each knows nothing about SSH.
import type { Step } from '../playbook/schema.js';
import { signalOf, stepKind } from '../playbook/step-order.js';
import type { HostRun } from '../run/host-run.js';
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

/** Runs one step; returns a one-line summary of what it did. */
export async function runStep(run: HostRun, step: Step): Promise<string> {
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
