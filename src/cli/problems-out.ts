// A playbook's problems on stderr: one line each, FILE:LINE:COL first, and no
// more than a screenful, so that a hostile or mistaken file cannot flood it.
import { formatProblem, type Problem } from '../playbook/problem.js';

export const MAX_PRINTED = 50;

export function printProblems(problems: readonly Problem[], line: (s: string) => string = (s) => s): void {
  const shown = problems.slice(0, MAX_PRINTED).map((p) => line(formatProblem(p)));
  const more = problems.length - shown.length;
  if (more > 0) shown.push(`... and ${more} more (fix these first)`);
  shown.push(`${problems.length} problem${problems.length === 1 ? '' : 's'} found`);
  process.stderr.write(`${shown.join('\n')}\n`);
}
