// Every command's options and help text, in one table: the parser, --help and
// the README are all read off this.
import type { ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: Options;
  help: Record<string, string>;
}

const limit = { limit: { type: 'string', short: 'l' } } as const;

export const COMMANDS: CommandSpec[] = [
  {
    name: 'validate',
    summary: 'check a playbook against the schema and the upgrade rules; contacts no host',
    usage: 'hotswap validate <playbook>',
    options: {},
    help: {},
  },
  {
    name: 'plan',
    summary: 'dry run: connect, gather facts, run pre-flight checks and print every action per host; changes nothing',
    usage: 'hotswap plan <playbook> [--offline] [--format text|json|markdown] [--limit PATTERN]',
    options: { offline: { type: 'boolean' }, format: { type: 'string' }, ...limit },
    help: {
      '--offline': 'no connection: the static plan from the playbook alone',
      '--format FORMAT': 'text (default), json, or markdown for a change ticket',
      '--limit PATTERN': 'only hosts matching PATTERN (names, groups, globs, !name to exclude)',
    },
  },
  {
    name: 'apply',
    summary: 'run the playbook: upgrade each host, verify, roll back a host that fails',
    usage: 'hotswap apply <playbook> [--dry-run] [--limit PATTERN] [--yes] [--json] [--report FILE] [--concurrency N] [--break-lock]',
    options: { 'dry-run': { type: 'boolean' }, yes: { type: 'boolean', short: 'y' }, json: { type: 'boolean' }, report: { type: 'string' }, concurrency: { type: 'string' }, 'break-lock': { type: 'boolean' }, ...limit },
    help: {
      '--dry-run': 'the same as `hotswap plan`',
      '--limit PATTERN': 'only hosts matching PATTERN',
      '--yes, -y': 'answer every confirmation with yes (needed without a terminal)',
      '--json': 'one JSON event per line on stdout; progress stays on stderr',
      '--report FILE': "write the run's full record as JSON",
      '--concurrency N': 'hosts in flight at once within a batch (overrides strategy.concurrency)',
      '--break-lock': "take a host's lock even though another run holds it (after checking that run is gone)",
    },
  },
  {
    name: 'status',
    summary: "read each host's nginx: master, build, workers, upgrade in progress, backups; changes nothing",
    usage: 'hotswap status <playbook> [--limit PATTERN] [--json]',
    options: { json: { type: 'boolean' }, ...limit },
    help: { '--limit PATTERN': 'only hosts matching PATTERN', '--json': 'one JSON document on stdout' },
  },
  {
    name: 'rollback',
    summary: 'bring each host back to the build it ran before the last upgrade',
    usage: 'hotswap rollback <playbook> [--limit PATTERN] [--yes] [--break-lock]',
    options: { yes: { type: 'boolean', short: 'y' }, 'break-lock': { type: 'boolean' }, ...limit },
    help: { '--limit PATTERN': 'only hosts matching PATTERN', '--yes, -y': 'answer every confirmation with yes', '--break-lock': "take a host's lock even though another run holds it" },
  },
];

export function commandHelp(c: CommandSpec): string {
  const opts = Object.entries({ ...c.help, '--help, -h': 'show this help' });
  const width = Math.max(...opts.map(([k]) => k.length));
  return [`usage: ${c.usage}`, '', c.summary, '', 'options:', ...opts.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`), ''].join('\n');
}

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: hotswap <command> <playbook> [options]',
    '',
    'Upgrade the nginx binary across a fleet of servers without dropping a request.',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'options:',
    '  --help, -h     show help (also after any command)',
    '  --version, -V  print the version',
    '',
    'exit codes: 0 ok, 1 a host failed and was rolled back, 2 usage or invalid playbook,',
    '            3 a host unreachable, 4 refused or halted, 5 a rollback failed, 130 interrupted',
    '',
  ].join('\n');
}
