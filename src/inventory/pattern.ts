// Ansible host patterns over a universe of hosts and groups. Pure: the playbook's
// `hosts:` pattern over an inventory and `--limit` over a plain host list
// (whose only group is `all`) both go through here.
import { compileLinear, RegexError, type LinearRegExp } from './linear-regex.js';

export interface HostUniverse {
  /** every host, in the order results are returned */
  hosts: readonly string[];
  /** group -> every host in it, children included */
  groups: ReadonlyMap<string, ReadonlySet<string>>;
}

// The caller decides whether an unmatched term is a warning or an error.
export interface Selection {
  /** in universe order, each once */
  hosts: string[];
  /** terms, as written, that matched no host or group */
  unmatched: string[];
}

// A pattern that cannot be evaluated at all (a bad `~regex`).
export class PatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatternError';
  }
}

// Terms separated by ',' (or ':', Ansible's older separator). Union first, then
// `&` intersections, then `!` exclusions, whatever the order written; a pattern
// of only `&`/`!` terms starts from all. Unlike Ansible, globs and regexes never
// select the built-in `all`/`ungrouped` groups by name (`a*` is not the fleet).
export function selectHosts(pattern: string, universe: HostUniverse): Selection {
  const terms = splitPattern(pattern);
  const plain = terms.filter((t) => t[0] !== '&' && t[0] !== '!');
  const unmatched: string[] = [];
  const everyHost = new Set(universe.hosts);
  const hits = (term: string) => {
    const bare = term.replace(/^[&!]/, '');
    const found = matchSubscripted(bare, universe, everyHost);
    if (!found.size && bare !== 'all') unmatched.push(term);
    return found;
  };
  let selected = new Set<string>(plain.length || !terms.length ? [] : universe.hosts);
  for (const t of plain) hits(t).forEach((h) => selected.add(h));
  for (const t of terms.filter((t) => t[0] === '&')) {
    const found = hits(t);
    selected = new Set([...selected].filter((h) => found.has(h)));
  }
  for (const t of terms.filter((t) => t[0] === '!')) hits(t).forEach((h) => selected.delete(h));
  return { hosts: universe.hosts.filter((h) => selected.has(h)), unmatched };
}

/** Terms (or a whole pattern) for a message: each cut short, at most ten, so a 10 000-character pattern stays one short line. */
export function termsText(terms: readonly string[]): string {
  const shown = terms.slice(0, 10).map((t) => (t.length > 60 ? `${t.slice(0, 60)}...` : t));
  return terms.length > 10 ? `${shown.join(', ')} and ${terms.length - 10} more` : shown.join(', ');
}

function splitPattern(pattern: string): string[] {
  const p = pattern.trim();
  const isIPv6 = /^[0-9A-Fa-f]*:[0-9A-Fa-f]*:[0-9A-Fa-f:.]*$/.test(p) && (p.includes('::') || p.split(':').length === 8);
  const parts = p.includes(',') ? p.split(',') : isIPv6 ? [p] : (p.match(/(?:\[[^\]]*\]|[^:])+/g) ?? []);
  return parts.map((t) => t.trim()).filter(Boolean);
}

// Ansible's subscripts: `web[0]`, `web[-1]`, `web[1:3]` (both ends included),
// `web[2:]`: positions in what the term before them selects, in inventory
// order. ansible-core 2.14 still takes `web[1-3]` for `web[1:3]`, so a glob
// class of digits (`db-[12]`) is a subscript too. A `~regex` never has one;
// `web[ab]` is a glob.
const SUBSCRIPT = /^(.+)\[(?:(-?[0-9]+)|([0-9]+)[:-]([0-9]*))\]$/;

function matchSubscripted(term: string, u: HostUniverse, everyHost: ReadonlySet<string>): Set<string> {
  const m = term[0] === '~' ? null : SUBSCRIPT.exec(term);
  if (!m) return matchTerm(term, u, everyHost);
  const hosts = [...matchTerm(m[1]!, u, everyHost)];
  if (m[2] !== undefined) {
    const i = Number(m[2]);
    const host = hosts[i < 0 ? hosts.length + i : i];
    return new Set(host === undefined ? [] : [host]);
  }
  const end = m[4] ? Number(m[4]) : hosts.length - 1;
  return new Set(hosts.slice(Number(m[3]), end + 1));
}

function matchTerm(term: string, u: HostUniverse, everyHost: ReadonlySet<string>): Set<string> {
  if (term === 'all') return new Set(everyHost);
  if (everyHost.has(term)) return new Set([term]);
  const exact = u.groups.get(term);
  if (exact) return new Set(exact);
  const re = term[0] === '~' ? compile(term.slice(1), term) : /[*?[]/.test(term) ? globToRegExp(term) : undefined;
  const found = new Set<string>();
  if (!re) return found;
  for (const [name, members] of u.groups) if (name !== 'all' && name !== 'ungrouped' && re.test(name)) members.forEach((h) => found.add(h));
  for (const h of u.hosts) if (re.test(h)) found.add(h);
  return found;
}

/** `~regex` matches from the start of a name, like Python's re.match, in linear time (linear-regex.ts). */
function compile(source: string, term: string): LinearRegExp {
  try {
    return compileLinear(source);
  } catch (e) {
    if (!(e instanceof RegexError)) throw e;
    throw new PatternError(`host pattern ${JSON.stringify(termsText([term]))} is not a valid regular expression: ${e.message}`);
  }
}

/** fnmatch: `*`, `?`, `[seq]`, `[!seq]`, whole name, case-sensitive; matched in linear time too (`*a*a*a*b` backtracks). */
function globToRegExp(glob: string): LinearRegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    const close = c === '[' ? glob.indexOf(']', i + (glob[i + 1] === '!' ? 3 : 2)) : -1;
    if (c === '*') re += '[^]*';
    else if (c === '?') re += '[^]';
    else if (close > 0) {
      const body = glob.slice(i + 1, close).replace(/\\/g, '\\\\');
      re += `[${body[0] === '!' ? '^' + body.slice(1) : body[0] === '^' ? '\\' + body : body}]`;
      i = close;
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return compile(`^${re}$`, glob);
}
