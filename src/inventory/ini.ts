import { InventoryError } from './errors.js';
import { InventoryBuilder } from './model.js';
import { expandHostEntry } from './ranges.js';

const MAX_LINE = 64 * 1024;
const MAX_ERRORS = 1000;
const LOOKS_LIKE_SECTION = /^\[[^\]]*\]\s*(?:[#;].*)?$/;
const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:[#;].*)?$/;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:[#;].*)?$/;

type Kind = 'hosts' | 'vars' | 'children' | 'skip';
interface Token { text: string; col: number }

// Reads Ansible's INI inventory, the format most fleets already keep, reporting
// every error with its line and column rather than stopping at the first.
export function parseIni(text: string, file: string): { builder: InventoryBuilder; errors: InventoryError[] } {
  const b = new InventoryBuilder();
  const errors: InventoryError[] = [];
  const declared = new Set(['all', 'ungrouped']);
  const varsSections: { group: string; line: number }[] = [];
  const edges: { parent: string; child: string; line: number; col: number }[] = [];
  let group = 'ungrouped';
  let kind: Kind = 'hosts';

  let tooMany: string | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    // past this, the rest of the file would only add to a list nobody reads
    if (errors.length > MAX_ERRORS || tooMany) return;
    if (errors.length === MAX_ERRORS) return void errors.push(new InventoryError(file, `stopped reading here: more than ${MAX_ERRORS} problems`, i + 1, 1));
    const line = i + 1;
    const body = raw.trim();
    const indent = raw.length - raw.trimStart().length;
    const fail = (reason: string, col = 1) => void errors.push(new InventoryError(file, reason, line, indent + col));
    if (!body || body[0] === '#' || body[0] === ';') return;
    // host names are short: a line of megabytes is not an inventory (and backtracks in the range parser)
    if (raw.length > MAX_LINE) return fail(`line is ${raw.length} characters long; an inventory line may hold at most ${MAX_LINE}`);

    if (LOOKS_LIKE_SECTION.test(body)) {
      const m = SECTION.exec(body);
      const [name, type = 'hosts'] = m ? [m[1], m[2]] : [];
      if (!name) {
        kind = 'skip';
        return fail(`invalid section header ${body}: expected [group], [group:vars] or [group:children], with no spaces`);
      }
      if (type !== 'hosts' && type !== 'vars' && type !== 'children') {
        kind = 'skip';
        return fail(`unknown section type "${type}" in [${name}:${type}]: expected [${name}], [${name}:vars] or [${name}:children]`, name.length + 3);
      }
      [group, kind] = [name, type];
      b.group(name);
      if (type === 'vars') varsSections.push({ group: name, line });
      else declared.add(name);
    } else if (kind === 'hosts') {
      const { tokens, error } = shlex(body);
      if (error) return fail(`${error.text} in host line: ${body}`, error.col);
      const [first, ...rest] = tokens;
      if (!first) return;
      if (first.text.includes('=')) return fail(`expected a host name first, got ${first.text}: group vars belong in a [group:vars] section`, first.col);
      let entry;
      try {
        entry = expandHostEntry(first.text);
      } catch (e) {
        return fail((e as Error).message, first.col);
      }
      const vars: Record<string, unknown> = entry.port ? { ansible_port: entry.port } : {};
      for (const t of rest) {
        const eq = t.text.indexOf('=');
        if (eq > 0) vars[t.text.slice(0, eq)] = typeValue(t.text.slice(eq + 1));
        else fail(`expected key=value after the host name, got: ${t.text}`, t.col);
      }
      tooMany = b.roomFor(entry.names.length);
      if (tooMany) return fail(tooMany, first.col);
      for (const name of entry.names) b.addHost(name, group, vars);
    } else if (kind === 'vars') {
      const eq = body.indexOf('=');
      if (eq <= 0) return fail(`expected key=value in [${group}:vars], got: ${body}`);
      b.group(group).vars[body.slice(0, eq).trim()] = typeValue(body.slice(eq + 1).trim());
    } else if (kind === 'children') {
      const m = GROUP_NAME.exec(body);
      if (!m?.[1]) return fail(`expected a group name in [${group}:children], got: ${body}`);
      edges.push({ parent: group, child: m[1], line, col: indent + 1 });
    }
  });

  for (const { group, line } of varsSections) {
    if (!declared.has(group)) {
      errors.push(new InventoryError(file, `[${group}:vars] is for group "${group}", which is never declared: add a [${group}] or [${group}:children] section`, line, 1));
    }
  }
  for (const { parent, child, line, col } of edges) {
    const why = declared.has(child)
      ? b.addChild(parent, child)
      : `[${parent}:children] lists "${child}", which is not a group: declare it with [${child}] or [${child}:children]`;
    if (why) errors.push(new InventoryError(file, why, line, col));
  }
  errors.sort((x, y) => (x.line ?? 0) - (y.line ?? 0));
  return { builder: b, errors };
}

// Ansible reads INI values as Python literals; we approximate: plain integers,
// True/False/None, and quotes stripped. Everything else stays a string.
function typeValue(v: string): unknown {
  if (/^[-+]?(?:0|[1-9][0-9]*)$/.test(v) && Number.isSafeInteger(Number(v))) return Number(v);
  if (v === 'True' || v === 'False') return v === 'True';
  if (v === 'None') return null;
  return /^(["'])(.*)\1$/s.exec(v)?.[2] ?? v;
}

// POSIX shlex with comments, as Ansible splits a host line: quotes group words,
// backslash escapes, an unquoted '#' ends the line.
function shlex(s: string): { tokens: Token[]; error?: Token } {
  const tokens: Token[] = [];
  let i = 0;
  for (;;) {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (i >= s.length || s[i] === '#') return { tokens };
    const token: Token = { text: '', col: i + 1 };
    tokens.push(token);
    while (i < s.length && !/\s/.test(s[i]!)) {
      const c = s[i]!;
      if (c === '#') return { tokens };
      if (c === "'") {
        const end = s.indexOf("'", i + 1);
        if (end < 0) return { tokens, error: { text: 'no closing quotation', col: i + 1 } };
        token.text += s.slice(i + 1, end);
        i = end + 1;
      } else if (c === '"') {
        const start = i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\')) i++;
          token.text += s[i++];
        }
        if (i++ >= s.length) return { tokens, error: { text: 'no closing quotation', col: start + 1 } };
      } else if (c === '\\') {
        if (i + 1 >= s.length) return { tokens, error: { text: 'nothing after the escape character', col: i + 1 } };
        token.text += s[i + 1];
        i += 2;
      } else {
        token.text += c;
        i++;
      }
    }
  }
}
