// A problem found in a playbook, located to a file position so an editor or a
// pre-commit hook can jump to it.
export interface Problem {
  file: string;
  line: number;
  col: number;
  message: string;
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.message}`;
}

export function sortProblems(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems
    .filter((p) => {
      const key = formatProblem(p);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.line - b.line || a.col - b.col);
}

/** The playbook cannot be used; carries every problem found, in source order. */
export class PlaybookError extends Error {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    const sorted = sortProblems(problems);
    super(sorted.map(formatProblem).join('\n'));
    this.name = 'PlaybookError';
    this.problems = sorted;
  }
}
