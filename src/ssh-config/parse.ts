// OpenSSH client config (ssh_config(5)) as lines: Host, Match, Include and
// options, each with its file and line, cut and checked as OpenSSH 9.2's
// readconf.c does. Pure: no I/O; Include is expanded by load.ts.
import { checkValue, keywordKind, type Kind } from './keywords.js';
import { splitLine, strdelim } from './lexer.js';
import { defaultParseEnv, type ParseEnv } from './parse-env.js';

export type MatchCriterion = { negate: boolean; attr: 'all' | 'canonical' | 'final' | 'host' | 'originalhost' | 'user' | 'localuser' | 'exec'; arg: string };

export type ConfigItem =
  | { kind: 'host'; patterns: string[]; file: string; line: number }
  | { kind: 'match'; criteria: MatchCriterion[]; text: string; file: string; line: number }
  | { kind: 'include'; paths: string[]; file: string; line: number }
  /** rest: the line after the keyword (ProxyCommand and friends take it whole) */
  | { kind: 'option'; key: string; args: string[]; rest: string; file: string; line: number }
  /** a keyword this ssh does not know: an error unless an IgnoreUnknown in force matches it */
  | { kind: 'unknown'; key: string; file: string; line: number };

export class SshConfigError extends Error {
  constructor(readonly file: string, readonly line: number, reason: string) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'SshConfigError';
  }
}


const ATTRS = new Set(['canonical', 'final', 'host', 'originalhost', 'user', 'localuser', 'exec']);

// Why: one bad line must be reported where it is, as `ssh` refuses the whole
// file for it (whether or not its block applies to the host).
export function parseSshConfig(text: string, file: string, penv: ParseEnv = defaultParseEnv()): ConfigItem[] {
  const items: ConfigItem[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const l = splitLine(raw);
    if (l.kind === 'blank') return;
    const fail = (why: string) => new SshConfigError(file, line, why);
    if (l.kind === 'error') throw fail(l.reason);
    const { keyword, args } = l;
    if (keyword === 'host') {
      if (!args.length || args.some((a) => a === '')) throw fail(`keyword host empty argument`);
      items.push({ kind: 'host', patterns: args, file, line });
    } else if (keyword === 'match') {
      items.push({ kind: 'match', criteria: parseMatch(l.rest, fail), text: l.rest, file, line });
    } else if (keyword === 'include') {
      if (args.some((a) => a === '')) throw fail('keyword include empty argument');
      if (!args.length) throw fail('keyword include: missing argument');
      items.push({ kind: 'include', paths: args, file, line });
    } else {
      const kind: Kind | null = keywordKind(keyword);
      if (kind === null) {
        items.push({ kind: 'unknown', key: keyword, file, line });
        return;
      }
      const why = checkValue(keyword, kind, args, penv.env, penv.services);
      if (why) throw fail(`${l.written}: ${why}`);
      items.push({ kind: 'option', key: keyword, args, rest: l.rest.replace(/^[ \t\r\n=]+/, ''), file, line });
    }
  });
  return items;
}

// readconf.c match_cfg_line, the part that does not depend on the host:
// criteria split like the keyword (strdelim: double quotes, no escapes).
function parseMatch(rest: string, fail: (why: string) => Error): MatchCriterion[] {
  const out: MatchCriterion[] = [];
  let cp: string | null = rest;
  for (;;) {
    const d = strdelim(cp);
    if (d === null || d.token === '') break;
    cp = d.rest;
    if (d.token.startsWith('#')) { cp = null; break; }
    const negate = d.token.startsWith('!');
    const attr = (negate ? d.token.slice(1) : d.token).toLowerCase();
    if (attr === 'all') {
      const next = strdelim(cp);
      if (out.length > 1 || (next !== null && next.token !== '' && !next.token.startsWith('#'))) throw fail(`'${d.token}' cannot be combined with other Match attributes`);
      cp = next !== null && next.token.startsWith('#') ? null : cp;
      out.push({ negate, attr: 'all', arg: '' });
      break;
    }
    if (attr === 'canonical' || attr === 'final') {
      out.push({ negate, attr, arg: '' });
      continue;
    }
    const a = strdelim(cp);
    if (a === null || a.token === '' || a.token.startsWith('#')) throw fail(`Missing Match criteria for ${negate ? d.token.slice(1) : d.token}`);
    cp = a.rest;
    if (!ATTRS.has(attr)) throw fail(`Unsupported Match attribute ${negate ? d.token.slice(1) : d.token}`);
    out.push({ negate, attr: attr as MatchCriterion['attr'], arg: a.token });
  }
  if (!out.length) throw fail('One or more attributes required for Match');
  if (cp !== null && cp !== '') throw fail('keyword match extra arguments at end of line');
  return out;
}
