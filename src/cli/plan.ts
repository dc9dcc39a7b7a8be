// hotswap plan (= apply --dry-run): the apply code path with every change
// withheld; prints, per host, each action apply would take, or why a host
// would be refused. --offline plans from the playbook alone.
import type { CommandArgs } from './command-args.js';
import { UsageError, Exit, type ExitCode } from '../errors.js';
import { clip } from './args-problem.js';
import { offlineBuilds, selectedHosts } from './select.js';
import { PlanBuilder, planMarkdown, planText, type PlanDocument } from '../report/plan.js';
import { offlinePlan } from '../report/plan-offline.js';
import { jsonText } from '../report/terminal-text.js';
import { loadPlaybook } from '../playbook/load.js';
import { makeBatches } from '../plan/batches.js';

const FORMATS = ['text', 'json', 'markdown'] as const;

export async function run(args: CommandArgs): Promise<ExitCode> {
  const format = (args.values.format ?? 'text') as (typeof FORMATS)[number];
  if (!FORMATS.includes(format)) throw new UsageError(`--format takes ${FORMATS.join(', ')} (got ${JSON.stringify(clip(String(args.values.format)))})`);
  let doc: PlanDocument;
  let code: ExitCode = Exit.ok;
  if (args.values.offline) {
    const loaded = loadPlaybook(args.playbook);
    const hosts = selectedHosts(loaded, args.values.limit as string | undefined);
    const builds = await offlineBuilds(loaded, hosts);
    doc = await offlinePlan(loaded.playbook.name, makeBatches(hosts, loaded.playbook.strategy?.serial), builds);
  } else {
    const builder = new PlanBuilder();
    const { runPlaybook } = await import('./run-playbook.js');
    code = await runPlaybook(args, { dryRun: true, quiet: true, listen: (e) => builder.on(e) });
    doc = builder.doc;
  }
  process.stdout.write(format === 'json' ? jsonText(doc, 2) + '\n' : format === 'markdown' ? planMarkdown(doc) : planText(doc));
  return code;
}
