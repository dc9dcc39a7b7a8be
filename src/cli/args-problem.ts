// A command line Node's parseArgs refused, said in one line that names the
// flag and, for a misspelt one, the flag that was meant: `--fromat` -> `--format`.
import type { CommandSpec } from './commands.js';
import { COMMANDS } from './commands.js';
import { closest } from '../playbook/closest.js';

/** What was typed, cut short for a message: a 10 000-character argument stays one short line. */
export const clip = (s: string) => (s.length > 60 ? `${s.slice(0, 60)}...` : s);

export function argsProblem(spec: CommandSpec, err: Error & { code?: string }): string {
  const first = err.message.split('\n')[0] ?? '';
  const flags = Object.entries({ ...spec.options, help: { type: 'boolean', short: 'h' } }).map(([long]) => `--${long}`);
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = /Unknown option '([^']*)'/.exec(first)?.[1] ?? first;
    const bare = flag.replace(/=.*$/, '');
    const guess = bare.startsWith('--') ? closest(bare, flags) : undefined;
    const elsewhere = COMMANDS.filter((c) => c !== spec && Object.hasOwn(c.options, bare.replace(/^--/, ''))).map((c) => c.name);
    const hint = guess ? ` (did you mean ${guess}?)` : elsewhere.length ? ` (${bare} is an option of ${elsewhere.join(' and ')})` : '';
    return `unknown option ${JSON.stringify(clip(flag)).slice(1, -1)}${hint}`;
  }
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const m = /^Option '(?:-\w, )?(--[\w-]+)(?: <value>)?' (argument missing|does not take an argument)/.exec(first);
    if (m) return m[2] === 'argument missing' ? `${m[1]} needs a value` : `${m[1]} takes no value`;
  }
  return clip(first);
}
