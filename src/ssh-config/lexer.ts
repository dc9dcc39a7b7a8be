// How OpenSSH 9.2 cuts a config line into a keyword and arguments (misc.c
// strdelim and argv_split, readconf.c process_config_line). Pure.

/** OpenSSH's WHITESPACE: a non-breaking space or any other character is part of a word. */
const WS = ' \t\r\n';
const isWs = (c: string | undefined) => c !== undefined && c !== '' && WS.includes(c);
const skipWs = (s: string, i: number) => { while (isWs(s[i])) i++; return i; };

export type Delimited = { token: string; rest: string | null } | null;

// Why: the keyword and `Match` criteria are split by strdelim: whitespace or
// one `=`, and a double-quoted part without escapes. null = unmatched quote.
export function strdelim(s: string | null, splitEquals = true): Delimited {
  if (s === null) return null;
  let i = 0;
  while (i < s.length && !isWs(s[i]) && s[i] !== '"' && !(splitEquals && s[i] === '=')) i++;
  if (i >= s.length) return { token: s, rest: null };
  if (s[i] === '"') {
    const close = s.indexOf('"', i + 1);
    if (close < 0) return null;
    return { token: s.slice(0, i) + s.slice(i + 1, close), rest: s.slice(skipWs(s, close + 1)) };
  }
  const wasEquals = splitEquals && s[i] === '=';
  let j = skipWs(s, i + 1);
  if (splitEquals && s[j] === '=' && !wasEquals) j = skipWs(s, j + 1);
  return { token: s.slice(0, i), rest: s.slice(j) };
}

// Why: option values are split by argv_split: spaces and tabs only, single or
// double quotes, backslash escapes a quote, a backslash or (unquoted) a space;
// `#` at the start of a word ends the line. null = unterminated quote.
export function argvSplit(s: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === ' ' || s[i] === '\t') { i++; continue; }
    if (s[i] === '#') break;
    let quote = '';
    let arg = '';
    for (; i < s.length; i++) {
      const c = s[i]!;
      if (c === '\\') {
        const n = s[i + 1];
        if (n === "'" || n === '"' || n === '\\' || (!quote && n === ' ')) arg += s[++i];
        else arg += c;
      } else if (!quote && (c === ' ' || c === '\t')) break;
      else if (!quote && (c === '"' || c === "'")) quote = c;
      else if (quote && c === quote) quote = '';
      else arg += c;
    }
    if (i >= s.length && quote) return null;
    out.push(arg);
  }
  return out;
}

export type Line =
  | { kind: 'blank' }
  | { kind: 'error'; reason: string }
  /** keyword lowercased (ASCII only, as C tolower); rest = the text after it (ProxyCommand's value) */
  | { kind: 'line'; keyword: string; written: string; rest: string; args: string[] };

/** One line (without its newline) as process_config_line sees it. */
export function splitLine(raw: string): Line {
  let end = raw.length;
  while (end > 1 && (isWs(raw[end - 1]) || raw[end - 1] === '\f')) end--;
  const line = raw.slice(0, end);
  if (line === '') return { kind: 'blank' };
  let d = strdelim(line);
  if (d === null) return { kind: 'blank' };
  if (d.token === '') d = strdelim(d.rest);
  if (d === null || d.token === '' || d.token.startsWith('\n') || d.token.startsWith('#')) return { kind: 'blank' };
  const written = d.token;
  const keyword = written.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const rest = d.rest === null ? '' : d.rest.slice(skipWs(d.rest, 0));
  if (rest === '') return { kind: 'error', reason: `no argument after keyword "${keyword}"` };
  const args = argvSplit(rest);
  if (args === null) return { kind: 'error', reason: 'invalid quotes' };
  return { kind: 'line', keyword, written, rest, args };
}
