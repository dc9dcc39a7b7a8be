// hotswap validate: schema + rules, no connection. Exit 0 with a summary, or 2
// with every problem (thrown as a PlaybookError and printed by main).
import type { CommandArgs } from './main.js';
import { Exit, type ExitCode } from './exit.js';
import { loadPlaybook } from '../playbook/load.js';
import { makeBatches } from '../plan/batches.js';

export async function run(args: CommandArgs): Promise<ExitCode> {
  const loaded = loadPlaybook(args.playbook);
  const batches = makeBatches(loaded.hosts, loaded.playbook.strategy?.serial);
  const n = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
  process.stdout.write(`${args.playbook}: valid: ${n(loaded.hosts.length, 'host')}, ${n(batches.length, 'batch').replace('batchs', 'batches')}, ${n(loaded.playbook.steps.length, 'step')}\n`);
  return Exit.ok;
}
