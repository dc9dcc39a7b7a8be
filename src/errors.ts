// Every error that decides how hotswap ends, and the exit codes of SPEC.md.
// Only src/cli/main.ts sets the process's exit code: commands return an
// ExitCode or throw an ExitError; a host's run ends in a result (see
// EXIT_OF in src/run/fleet.ts) that the fleet turns into a code.
import { formatProblem, sortProblems, type Problem } from './playbook/problem.js';

/** One meaning per code; README.md and docs/operations.md list them in this order. */
export const Exit = {
  /** every host upgraded, or already on the target binary */
  ok: 0,
  /** at least one host failed and was rolled back to a serving state */
  failed: 1,
  /** the command could not start: usage error, invalid playbook, no terminal to confirm on (nothing was contacted) */
  usage: 2,
  /** at least one host was unreachable */
  unreachable: 3,
  /** stopped on purpose: a pre-flight check refused a host, or the failure threshold or the operator halted the rollout */
  refused: 4,
  /** a rollback failed: a host needs a person now */
  rollbackFailed: 5,
  /** SIGINT/SIGTERM; in-flight hosts were brought to a serving state first */
  interrupted: 130,
} as const;
export type ExitCode = (typeof Exit)[keyof typeof Exit];

/** Where several apply, the first in this order wins. */
const PRECEDENCE: ExitCode[] = [5, 130, 4, 3, 1, 0];
export function worstExit(codes: Iterable<ExitCode>): ExitCode {
  const set = new Set(codes);
  return PRECEDENCE.find((c) => set.has(c)) ?? 0;
}

/** Ends the command: its message is printed as `hotswap: MESSAGE`, then it exits with `exitCode`. */
export class ExitError extends Error {
  constructor(message: string, readonly exitCode: ExitCode) {
    super(message);
    this.name = 'ExitError';
  }
}

/** Exit 2: the command line, the playbook or what it names cannot be used; no host was contacted. */
export class UsageError extends ExitError {
  constructor(message: string) {
    super(message, Exit.usage);
    this.name = 'UsageError';
  }
}

/** Exit 2: the playbook cannot be used; carries every problem found, in source order. */
export class PlaybookError extends UsageError {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    const sorted = sortProblems(problems);
    super(sorted.map(formatProblem).join('\n'));
    this.name = 'PlaybookError';
    this.problems = sorted;
  }
}

/** Exit 4: the operator answered no to a confirmation, so nothing (more) was done. */
export class Declined extends ExitError {
  constructor(message: string) {
    super(message, Exit.refused);
    this.name = 'Declined';
  }
}

// The errors below end one host's run, not the command: the host's result
// (and through it the exit code) says what became of it.

/** A step could not do its job; the message says why, for the operator. The host ends failed or rolled back (exit 1, or 5 when the rollback fails). */
export class StepFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StepFailure';
  }
}

/** A check found the host must not be upgraded, before anything changed on it: the host ends refused (exit 4). */
export class Refusal extends StepFailure {
  constructor(message: string) {
    super(message);
    this.name = 'Refusal';
  }
}

/** SIGINT/SIGTERM: the host is brought to a serving state and left (exit 130). */
export class Interrupted extends Error {
  constructor() {
    super('interrupted (SIGINT/SIGTERM)');
    this.name = 'Interrupted';
  }
}
