// hotswap apply: run the playbook (or, with --dry-run, plan it).
import type { CommandArgs } from './main.js';
import type { ExitCode } from './exit.js';
import { runPlaybook } from './run-playbook.js';

export async function run(args: CommandArgs): Promise<ExitCode> {
  if (args.values['dry-run']) return (await import('./plan.js')).run(args);
  return runPlaybook(args, { dryRun: false });
}
