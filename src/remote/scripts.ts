// The host-side shell scripts, one .sh file each in this folder. Rules every
// script follows:
// - It is a constant: no value is ever pasted into it. It runs as
//   `sh -c SCRIPT hotswap ARG...` (scriptArgv) and reads every path or pid
//   from "$1".."$n".
// - POSIX sh only (tested with dash and bash --posix, linted by shellcheck:
//   test/remote/), /proc, and coreutils (od, tr, head, tail, dd, stat,
//   readlink, sha256sum, sleep with fractions, id). No bash features,
//   ps/procps, awk, sed or grep. (The wait loop runs under bash where there
//   is one, for a pause without a fork; see under-bash.sh.)
// - What it reports is in one format, described in lib/kv.sh; a script that
//   only says what it did prints a line and tells by its exit code.
//
// A script uses shared functions from lib/ with a line `. ./lib/NAME.sh`
// (which shellcheck follows, see .shellcheckrc); that line is replaced here by
// the file's text, once per script, so a script carries only what it uses.
import { readSource } from './sources.js';

export const SCRIPT_NAMES = [
  'facts', 'wait', 'signal', 'stop-usr2-child',
  'backup', 'check-staged', 'rename', 'remove', 'restore', 'master-check',
  'status-extras', 'lock-take', 'lock-release', 'journal-append', 'journal-read', 'journal-line',
  'under-bash',
] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

// run under bash where the host has one (see under-bash.sh)
const UNDER_BASH: ReadonlySet<ScriptName> = new Set(['wait']);

const INCLUDE = /^\. \.\/(lib\/[a-z0-9-]+\.sh)$/;

const built = new Map<ScriptName, string>();

/** A script's text as it runs on a host: its file with its lib/ files inlined. */
export function script(name: ScriptName): string {
  let text = built.get(name);
  if (text === undefined) {
    if (!SCRIPT_NAMES.includes(name)) throw new TypeError(`no host script named ${String(name)}`);
    text = inline(`${name}.sh`, new Set());
    built.set(name, text);
  }
  return text;
}

function inline(path: string, seen: Set<string>): string {
  seen.add(path);
  return readSource(path)
    .split('\n')
    .map((line) => {
      if (!line.startsWith('. ')) return line;
      const m = INCLUDE.exec(line);
      if (!m) throw new Error(`src/remote/${path}: "${line}": only ". ./lib/NAME.sh" may be sourced`);
      return seen.has(m[1]!) ? '' : inline(m[1]!, seen).replace(/\n$/, '');
    })
    .join('\n');
}

/**
 * The argv that runs a script with positional arguments: `sh -c SCRIPT hotswap
 * ARG...`. The transport quotes every element; user values only ever travel
 * as arguments.
 */
export function scriptArgv(name: ScriptName, args: readonly string[]): string[] {
  if (UNDER_BASH.has(name)) return ['sh', '-c', script('under-bash'), 'hotswap', script(name), ...args];
  return ['sh', '-c', script(name), 'hotswap', ...args];
}
