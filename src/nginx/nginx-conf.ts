// Just enough of nginx's config syntax to read the main context: the top-level
// simple directives (pid, error_log, load_module, include, ...) of the main
// config file and of the files its top-level `include`s name. Pure: the host
// side sends the files (`nginx -T` output, or the same shape written by sh).
//
// Follows ngx_conf_read_token (nginx 1.22): words are split by blanks, `;` ends
// a directive, `{` opens a block, `}` closes it; `#` starts a comment only at
// the start of a word; "..." and '...' quote (with \" \' \\ \n \t \r escapes),
// a backslash outside quotes keeps the next character. Limits, on purpose:
// - blocks are skipped, not read: only the main context matters here;
// - `include` is followed at top level only, and only into files the dump has
//   (a glob is matched against the dump's file names, sorted as glob(3) does);
// - variables are not expanded (the main context has none that matter);
// - it reads the files as they are now, not as the running master read them.

/** One simple directive or block head, where it was read. */
export interface Directive {
  name: string;
  args: string[];
  file: string;
  line: number;
  /** true for `name args { ... }` (its body is skipped) */
  block: boolean;
  /** offsets in the file's text: the first word's first character, and just past the `;` or `{` */
  start: number;
  end: number;
}

export class ConfigSyntaxError extends Error {
  constructor(readonly file: string, readonly line: number, what: string) {
    super(`${file}:${line}: ${what}`);
    this.name = 'ConfigSyntaxError';
  }
}

/** The main-context directives of one file's text (blocks recorded by their head, bodies skipped). */
export function mainDirectives(text: string, file: string): Directive[] {
  const out: Directive[] = [];
  let depth = 0;
  let words: string[] = [];
  let startLine = 0;
  let startAt = 0;
  let line = 1;
  let i = 0;
  const n = text.length;
  const end = (block: boolean) => {
    if (words.length === 0) {
      if (block) throw new ConfigSyntaxError(file, line, 'unexpected "{"');
      throw new ConfigSyntaxError(file, line, 'unexpected ";"');
    }
    if (depth === 0) out.push({ name: words[0]!, args: words.slice(1), file, line: startLine, block, start: startAt, end: i + 1 });
    words = [];
  };
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') { line++; i++; continue; }
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue; }
    if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === ';') { end(false); i++; continue; }
    if (c === '{') { end(true); depth++; i++; continue; }
    if (c === '}') {
      if (words.length) throw new ConfigSyntaxError(file, line, 'unexpected "}"');
      if (depth === 0) throw new ConfigSyntaxError(file, line, 'unexpected "}"');
      depth--;
      i++;
      continue;
    }
    if (words.length === 0) {
      startLine = line;
      startAt = i;
    }
    if (c === '"' || c === "'") {
      let w = '';
      i++;
      for (;;) {
        if (i >= n) throw new ConfigSyntaxError(file, startLine, 'unexpected end of file, expecting a closing quote');
        const d = text[i]!;
        if (d === '\\' && i + 1 < n) {
          const e = text[i + 1]!;
          w += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e === '"' || e === "'" || e === '\\' ? e : `\\${e}`;
          i += 2;
          continue;
        }
        if (d === c) { i++; break; }
        if (d === '\n') line++;
        w += d;
        i++;
      }
      const next = text[i];
      if (next !== undefined && !/[\s;{)]/.test(next)) throw new ConfigSyntaxError(file, line, `unexpected "${next}" after a quoted string`);
      words.push(w);
      continue;
    }
    let w = '';
    while (i < n) {
      const d = text[i]!;
      if (d === ' ' || d === '\t' || d === '\r' || d === '\n' || d === ';' || d === '{') break;
      if (d === '\\' && i + 1 < n) {
        w += text[i + 1];
        if (text[i + 1] === '\n') line++;
        i += 2;
        continue;
      }
      w += d;
      i++;
    }
    words.push(w);
  }
  if (words.length) throw new ConfigSyntaxError(file, line, 'unexpected end of file, expecting ";" or "}"');
  if (depth > 0) throw new ConfigSyntaxError(file, line, 'unexpected end of file, expecting "}"');
  return out;
}

/** Config files by path, in the order they were listed. */
export type ConfigFiles = Map<string, string>;

const HEADER = /^# configuration file (.+):$/;

// Why one shape for both sources: `nginx -T` is exact (nginx resolves includes
// itself) but needs a valid config and the rights to open its logs; the host
// script writes the same headers with cat when it cannot run it.
/**
 * Splits `nginx -T` output into files: each starts with a line
 * `# configuration file PATH:`; nginx adds a newline after each file. Text
 * before the first header (a stray "syntax is ok" on stdout) is ignored.
 * Limit: a config line that is itself exactly such a header line splits a file.
 */
export function parseConfigDump(text: string): ConfigFiles {
  const files: ConfigFiles = new Map();
  let current: string | null = null;
  let lines: string[] = [];
  const flush = () => {
    if (current === null) return;
    // nginx writes the file, then a line feed of its own
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    if (!files.has(current)) files.set(current, lines.join('\n'));
  };
  for (const l of text.split('\n')) {
    const m = HEADER.exec(l);
    if (m) {
      flush();
      current = m[1]!;
      lines = [];
    } else if (current !== null) lines.push(l);
  }
  flush();
  return files;
}

/** Joins a relative config path to a prefix the way ngx_conf_full_name does (an absolute path is kept). */
export function fullName(prefix: string, name: string): string {
  if (name.startsWith('/')) return name;
  return `${prefix.endsWith('/') ? prefix : `${prefix}/`}${name}`;
}

/** The directory of a config file, with a trailing slash: nginx's conf_prefix. */
export function confPrefix(conf: string): string {
  const i = conf.lastIndexOf('/');
  return i < 0 ? './' : conf.slice(0, i + 1);
}

export interface MainContext {
  /** main-context directives in order, includes expanded in place (the include itself kept too) */
  directives: Directive[];
  /** top-level includes whose pattern matched no file of the dump */
  unresolved: Directive[];
}

/**
 * The main context of `conf` as nginx reads it: the file's top-level
 * directives, with each top-level `include` replaced by the top-level
 * directives of the files it names (relative patterns against the config's
 * own directory, as nginx does). `files` must hold `conf`.
 */
export function mainContext(files: ConfigFiles, conf: string): MainContext {
  const text = files.get(conf);
  if (text === undefined) throw new Error(`the config dump holds no ${conf} (it holds: ${[...files.keys()].join(', ') || 'nothing'})`);
  const prefix = confPrefix(conf);
  const unresolved: Directive[] = [];
  const seen = new Set<string>();
  const walk = (file: string, body: string): Directive[] => {
    if (seen.has(file)) return []; // nginx would recurse until it runs out of files; a loop is an error there
    seen.add(file);
    const out: Directive[] = [];
    for (const d of mainDirectives(body, file)) {
      out.push(d);
      if (d.name !== 'include' || d.block || d.args.length !== 1) continue;
      const names = includeTargets(files, prefix, d.args[0]!);
      if (names.length === 0 && !hasGlob(d.args[0]!)) unresolved.push(d);
      for (const f of names) out.push(...walk(f, files.get(f)!));
    }
    seen.delete(file);
    return out;
  };
  return { directives: walk(conf, text), unresolved };
}

/** The dump's files an `include ARG` names: a glob matched and sorted as glob(3) does, relative to conf_prefix. */
export function includeTargets(files: ConfigFiles, prefix: string, arg: string): string[] {
  const pattern = fullName(prefix, arg);
  if (hasGlob(pattern)) return [...files.keys()].filter((f) => globMatch(pattern, f)).sort(byBytes);
  return files.has(pattern) ? [pattern] : [];
}

const hasGlob = (p: string) => /[*?[]/.test(p);
const byBytes = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** glob(3) matching of one path: `*` and `?` never cross a `/` nor match a leading `.` of a name; `[...]` classes. */
export function globMatch(pattern: string, path: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    const nameStart = i === 0 || pattern[i - 1] === '/';
    if (c === '*') re += nameStart ? '(?!\\.)[^/]*' : '[^/]*';
    else if (c === '?') re += nameStart ? '[^/.]' : '[^/]';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) { re += '\\['; continue; }
      let body = pattern.slice(i + 1, close);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`${re}$`).test(path);
}
