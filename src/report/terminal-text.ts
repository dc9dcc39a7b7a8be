// Text from a host (process titles, the lock owner, the journal, nginx -t and -V
// output, error-log lines, command stderr) is data. Before it reaches a terminal
// every control character is shown escaped, so a compromised host can neither
// drive the operator's terminal (ESC, CSI, OSC 52 clipboard writes, C1 codes,
// BEL) nor forge a line that looks like hotswap's own (CR, LF, backspace, bidi
// overrides, Unicode line separators). --json and --report escape through JSON.

// C0 (TAB, LF and CR included), DEL, C1; the bidi marks, embeddings, overrides
// and isolates that reorder what is shown; U+2028/U+2029, which some terminals
// and most editors treat as line breaks.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  return NAMED[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
}

/** A field that must stay on one line: every control character, LF and CR included, written as an escape (ESC as \x1b). */
export function oneLine(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/**
 * Several lines of host text (nginx -t output, a stderr): each line escaped and
 * behind `prefix`, so none of them can pass for a line of hotswap's own.
 */
export function textBlock(text: string, prefix = '  | '): string[] {
  const lines = text.replace(/\r?\n$/, '').split(/\r?\n/);
  return lines.map((l) => `${prefix}${oneLine(l)}`);
}

/** A message that may span lines: its first line escaped, the others as a block under it. */
export function terminalMessage(text: string, prefix = '  | '): string {
  const [first = '', ...rest] = text.split(/\r?\n/);
  return [oneLine(first), ...(rest.length ? textBlock(rest.join('\n'), prefix) : [])].join('\n');
}

/** A copy of `value` with every string in it (keys stay) made one-line safe: for a record built of host text that a printer lays out in lines. */
export function escapeStrings<T>(value: T): T {
  if (typeof value === 'string') return oneLine(value) as T;
  if (Array.isArray(value)) return value.map(escapeStrings) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeStrings(v)])) as T;
  return value;
}

// JSON.stringify escapes C0 only; DEL, C1 (U+009B is a CSI to some terminals),
// the bidi controls and U+2028/9 it writes raw. Outside strings JSON is ASCII,
// so each can be written as \uXXXX wherever it is: the same JSON value.
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/** JSON for a terminal or a pipe (--json, status --json, plan --format json): every control character escaped. */
export function jsonText(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
