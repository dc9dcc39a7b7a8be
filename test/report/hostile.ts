// What a compromised host could put in anything hotswap prints: terminal
// commands and forged lines. Shared by the reporter tests.
export const HOSTILE = [
  'clear \x1b[2J\x1b[H',
  'clipboard \x1b]52;c;cm0gLXJmIH4K\x07',
  'title \x1b]0;owned\x1b\\',
  'bell \x07',
  'overwrite\r[lab-1] changed (1.0s)   ',
  'backspace \b\b\b\bchanged',
  'delete \x7f',
  'C1 CSI \x9b2J and C1 OSC \x9d52;c;eA==\x9c and NEL \x85',
  'fake line\n[lab-2] changed (1.0s)',
  'bidi \u202egnahc\u202c and isolate \u2066x\u2069',
  'line separator \u2028[lab-2] changed\u2029',
  'nul \0 tab \t vt \v ff \f',
].join(' | ');

/** The escapes `oneLine` writes, for the hostile text above. */
export const ESCAPED_PARTS = ['\\x1b[2J', '\\x1b]52;c;', '\\x07', '\\r[lab-1] changed', '\\x08', '\\x7f', '\\x9b2J', '\\x9d52', '\\x85', '\\n[lab-2] changed', '\\u202e', '\\u2066', '\\u2028', '\\x00', '\\t'];

// Everything a terminal could act on: C0 but LF, DEL, C1, bidi controls, U+2028/9.
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

/** The first raw control character in `out` (its own LFs allowed, and SGR colour if `colour`), or undefined. */
export function rawControl(out: string, colour = false): string | undefined {
  const text = colour ? out.replace(/\x1b\[[0-9;]*m/g, '') : out;
  const m = RAW.exec(text);
  return m ? `U+${m[0].charCodeAt(0).toString(16).padStart(4, '0')} at ${m.index}: ${JSON.stringify(text.slice(Math.max(0, m.index - 20), m.index + 20))}` : undefined;
}

/** Lines that pass for one of hotswap's own host lines although the host wrote them. */
export function forgedLines(out: string): string[] {
  return out.split('\n').filter((l) => /^\s*\[lab-[12]\] changed/.test(l));
}
