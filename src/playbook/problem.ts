// A problem found in a playbook, located to a file position so an editor or a
// pre-commit hook can jump to it.
export interface Problem {
  file: string;
  line: number;
  col: number;
  message: string;
}

// Why: a playbook's keys and values reach the terminal inside messages; control
// characters (ESC, BEL, CR, C1) and bidirectional overrides are shown as escapes
// so that a file cannot rewrite the screen or make one line look like another.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;
export function escapeText(s: string): string {
  return s.replace(UNSAFE, (c) => {
    const n = c.charCodeAt(0);
    return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

/** A value quoted for a message, cut short when long (a 1 MiB line stays one short line). */
export function quote(value: unknown, max = 80): string {
  const s = typeof value === 'string' && value.length > max ? `${value.slice(0, max)}...` : value;
  return JSON.stringify(s) ?? String(s);
}

export function formatProblem(p: Problem): string {
  return escapeText(`${p.file}:${p.line}:${p.col}: ${p.message}`);
}

/** A key path as an operator reads it: strategy.concurrency, steps[3].signal, vars["a b"]. */
export function keyPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const whole of path) {
    // a key of any length is allowed (a header name, say): its message stays one short line
    const seg = typeof whole === 'string' && whole.length > 40 ? `${whole.slice(0, 40)}...` : whole;
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

export function sortProblems(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems
    .filter((p) => {
      const key = formatProblem(p);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.line - b.line || a.col - b.col);
}
