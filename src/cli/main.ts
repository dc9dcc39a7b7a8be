#!/usr/bin/env node
// The entry point: parse the command line, run one command, set the exit code.
// The only place that touches process.exit; nothing below it prints a stack.
import { parseArgs } from 'node:util';
import { COMMANDS, commandHelp, mainHelp } from './commands.js';
import { ExitError, Exit, PlaybookError, UsageError, type ExitCode } from '../errors.js';
import { packageVersion } from './version.js';
import { argsProblem, clip } from './args-problem.js';
import { closest } from '../playbook/closest.js';
import { printProblems } from './problems-out.js';
import { oneLine, terminalMessage } from '../report/terminal-text.js';
import type { CommandArgs } from './command-args.js';

export type { CommandArgs } from './command-args.js';

// Each command's module is loaded only when it runs (a literal import each, so a bundler can follow them).
const COMMAND_MODULES: Record<string, () => Promise<{ run(args: CommandArgs): Promise<ExitCode> }>> = {
  validate: () => import('./validate.js'),
  plan: () => import('./plan.js'),
  apply: () => import('./apply.js'),
  status: () => import('./status.js'),
  rollback: () => import('./rollback.js'),
};

async function main(argv: string[]): Promise<ExitCode> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp());
    return name === undefined ? Exit.usage : Exit.ok;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`hotswap ${packageVersion()}\n`);
    return Exit.ok;
  }
  const spec = COMMANDS.find((c) => c.name === name);
  if (!spec) {
    const guess = closest(name, COMMANDS.map((c) => c.name));
    throw new UsageError(`unknown command ${JSON.stringify(clip(name))}${guess ? ` (did you mean ${guess}?)` : ''}; the commands are ${COMMANDS.map((c) => c.name).join(', ')} (see hotswap --help)`);
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...spec.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${name}: ${argsProblem(spec, err as Error & { code?: string })} (see hotswap ${name} --help)`);
  }
  if (parsed.values.help) {
    process.stdout.write(commandHelp(spec));
    return Exit.ok;
  }
  if (parsed.positionals.length !== 1) {
    throw new UsageError(`${name}: expected exactly one playbook file, got ${parsed.positionals.length} (usage: ${spec.usage})`);
  }
  const args: CommandArgs = { playbook: parsed.positionals[0], values: parsed.values as CommandArgs['values'] };
  return (await COMMAND_MODULES[name]()).run(args);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof PlaybookError) {
      printProblems(err.problems, oneLine);
      process.exitCode = err.exitCode;
    } else if (err instanceof ExitError) {
      process.stderr.write(`hotswap: ${terminalMessage(err.message)}\n`);
      process.exitCode = err.exitCode;
    } else {
      // a bug of ours: say so in one line; the stack only on request
      process.stderr.write(`hotswap: internal error: ${terminalMessage((err as Error)?.message ?? String(err))}\n`);
      if (process.env.HOTSWAP_DEBUG) process.stderr.write(`${(err as Error)?.stack}\n`);
      process.exitCode = Exit.failed;
    }
  },
);
