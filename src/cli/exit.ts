// Exit codes (SPEC.md). Only src/cli/main.ts sets the process's exit code;
// everything else throws a CliError or returns a code.
export const Exit = {
  ok: 0,
  failed: 1,
  usage: 2,
  unreachable: 3,
  refused: 4,
  rollbackFailed: 5,
  interrupted: 130,
} as const;
export type ExitCode = (typeof Exit)[keyof typeof Exit];

/** Where several apply, the first in this order wins. */
const PRECEDENCE: ExitCode[] = [5, 130, 4, 3, 1, 0];
export function worstExit(codes: Iterable<ExitCode>): ExitCode {
  const set = new Set(codes);
  return PRECEDENCE.find((c) => set.has(c)) ?? 0;
}

export class CliError extends Error {
  constructor(message: string, readonly exitCode: ExitCode = Exit.usage) {
    super(message);
    this.name = 'CliError';
  }
}
