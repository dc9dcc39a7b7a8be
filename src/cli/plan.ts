// hotswap plan (= apply --dry-run): the apply code path with every change
// withheld; prints, per host, each action apply would take.
import type { CommandArgs } from './main.js';
import type { ExitCode } from './exit.js';
import { runPlaybook } from './run-playbook.js';
import { PlanPrinter } from '../report/plan-text.js';

export async function run(args: CommandArgs): Promise<ExitCode> {
  const printer = new PlanPrinter();
  const code = await runPlaybook(args, { dryRun: true, quiet: true, listen: (e) => printer.on(e) });
  process.stdout.write(printer.text());
  return code;
}
