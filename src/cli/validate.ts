// hotswap validate: schema + rules, no connection. Exit 0 with a summary, or 2
// with every problem (thrown as a PlaybookError and printed by main).
import type { CommandArgs } from './command-args.js';
import { Exit, type ExitCode } from '../errors.js';
import { loadPlaybook } from '../playbook/load.js';
import { makeBatches } from '../plan/batches.js';

export async function run(args: CommandArgs): Promise<ExitCode> {
  const loaded = loadPlaybook(args.playbook);
  const batches = makeBatches(loaded.hosts, loaded.playbook.strategy?.serial);
  const n = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
  process.stdout.write(`${args.playbook}: valid: ${n(loaded.hosts.length, 'host')}, ${n(batches.length, 'batch').replace('batchs', 'batches')}, ${n(loaded.playbook.steps.length, 'step')}\n`);
  // a playbook naming only the binary: say where the other paths will come from
  const derived = [...new Set(loaded.hosts.flatMap((h) => h.nginx.derive ?? []))];
  if (derived.length) process.stdout.write(`nginx.${derived.join(', nginx.')}: not given, so read from each host at plan/apply time (\`${loaded.hosts[0]?.nginx.binary ?? 'nginx'} -V\`, the running master's -p/-c/-g, \`nginx -T\`); \`hotswap plan\` shows each path and where it came from\n`);
  return Exit.ok;
}
