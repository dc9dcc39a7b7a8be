// hotswap apply: run the playbook (or, with --dry-run, plan it).
import type { CommandArgs } from './command-args.js';
import type { ExitCode } from '../errors.js';
import { runPlaybook } from './run-playbook.js';

// Why: the command table imports `run` from every command module.
export async function run(args: CommandArgs): Promise<ExitCode> {
  // --json keeps stdout for JSON lines only: a dry run then streams its events
  // (every action, withheld) instead of printing the plan's text
  if (args.values['dry-run'] && args.values.json) return runPlaybook(args, { dryRun: true });
  if (args.values['dry-run']) return (await import('./plan.js')).run(args);
  return runPlaybook(args, { dryRun: false });
}
