// OpenSSH client config (ssh_config(5)) as lines: Host, Match, Include and
// options, each with its file and line. Pure: no I/O; Include is expanded by load.ts.

export type ConfigItem =
  | { kind: 'host'; patterns: string[]; file: string; line: number }
  | { kind: 'match'; criteria: string[]; file: string; line: number }
  | { kind: 'include'; paths: string[]; file: string; line: number }
  | { kind: 'option'; key: string; args: string[]; file: string; line: number };

export class SshConfigError extends Error {
  constructor(readonly file: string, readonly line: number, reason: string) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'SshConfigError';
  }
}

/** Options whose value is checked while parsing (the ones hotswap uses). */
const INTEGER = new Set(['port', 'connecttimeout', 'serveraliveinterval', 'serveralivecountmax']);
const YES_NO = new Set(['identitiesonly', 'hashknownhosts']);
const STRICT = new Set(['yes', 'no', 'ask', 'accept-new', 'off', 'true', 'false']);

// Why: one bad line must be reported where it is, as `ssh` would refuse it;
// keywords hotswap does not use are kept (ignored later), never an error.
export function parseSshConfig(text: string, file: string): ConfigItem[] {
  const items: ConfigItem[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const m = /^\s*([^\s=]+)(?:\s*=\s*|\s+|$)(.*)$/.exec(raw);
    if (!m || m[1]!.startsWith('#')) return;
    const key = m[1]!.toLowerCase();
    let args: string[];
    try {
      args = splitArgs(m[2]!);
    } catch (e) {
      throw new SshConfigError(file, line, `${m[1]}: ${(e as Error).message}`);
    }
    const fail = (why: string) => new SshConfigError(file, line, `${m[1]} ${why}`);
    if (key === 'host') {
      if (!args.length) throw fail('needs at least one pattern');
      items.push({ kind: 'host', patterns: args, file, line });
    } else if (key === 'match') {
      if (!args.length) throw fail('needs criteria');
      items.push({ kind: 'match', criteria: args, file, line });
    } else if (key === 'include') {
      if (!args.length) throw fail('needs a file');
      items.push({ kind: 'include', paths: args, file, line });
    } else {
      if (!args.length) throw fail('is missing its value');
      const v = args[0]!.toLowerCase();
      if (INTEGER.has(key) && !/^[0-9]+$/.test(v)) throw fail(`must be a whole number, got ${JSON.stringify(args[0])}`);
      if (key === 'port' && (Number(v) < 1 || Number(v) > 65535)) throw fail(`must be 1-65535, got ${args[0]}`);
      if (YES_NO.has(key) && !['yes', 'no', 'true', 'false'].includes(v)) throw fail(`must be yes or no, got ${JSON.stringify(args[0])}`);
      if (key === 'stricthostkeychecking' && !STRICT.has(v)) throw fail(`must be yes, no, ask or accept-new, got ${JSON.stringify(args[0])}`);
      items.push({ kind: 'option', key, args, file, line });
    }
  });
  return items;
}

// Why: OpenSSH splits arguments like a shell without expansion: double or single
// quotes group, a backslash escapes a quote or backslash, `#` at a word's start ends the line.
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length || text[i] === '#') break;
    let word = '';
    let quote: string | null = null;
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (quote) {
        if (c === quote) quote = null;
        else if (c === '\\' && (text[i + 1] === quote || text[i + 1] === '\\')) word += text[++i];
        else word += c;
      } else if (/\s/.test(c)) {
        break;
      } else if (c === '"' || c === "'") {
        quote = c;
      } else if (c === '\\' && /["'\\\s]/.test(text[i + 1] ?? '')) {
        word += text[++i];
      } else {
        word += c;
      }
    }
    if (quote) throw new Error(`unterminated ${quote} quote`);
    out.push(word);
  }
  return out;
}
