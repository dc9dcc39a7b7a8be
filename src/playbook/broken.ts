// Which parts of a playbook the schema found broken, so that the rules can run
// on every other part in the same pass (a schema error must not hide a wrong
// step order elsewhere), and numbers no setting can hold.
import type { Path } from './yaml.js';

interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, any>;
}

export interface Broken {
  /** true when the value at `path`, something inside it, or something around it failed the schema */
  (path: Path): boolean;
  /** true when the value at exactly `path` failed (its type, say) */
  exactly(path: Path): boolean;
}

export function toPath(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

const toPointer = (path: Path) => path.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

// An unknown key breaks nothing the rules read (its misspelt step kind shows as
// a step with no kind); a missing key breaks the key, not its whole mapping.
export function brokenPaths(errors: readonly SchemaError[], extra: readonly Path[] = []): Broken {
  const subjects: string[] = [...extra.map(toPointer)];
  for (const e of errors) {
    if (e.keyword === 'additionalProperties') continue;
    subjects.push(e.keyword === 'required' ? toPointer([...toPath(e.instancePath), String(e.params.missingProperty)]) : e.instancePath);
  }
  // every subject and every path above one, so a question is a few set lookups
  const exact = new Set(subjects);
  const above = new Set<string>();
  for (const sub of subjects) for (let i = sub.lastIndexOf('/'); i >= 0; i = i > 0 ? sub.lastIndexOf('/', i - 1) : -1) above.add(sub.slice(0, i));
  const broken = ((path: Path) => {
    const p = toPointer(path);
    if (exact.has(p) || above.has(p)) return true;
    for (let i = p.lastIndexOf('/'); i >= 0; i = i > 0 ? p.lastIndexOf('/', i - 1) : -1) if (exact.has(p.slice(0, i))) return true;
    return false;
  }) as Broken;
  broken.exactly = (path) => exact.has(toPointer(path));
  return broken;
}

// The step order can be checked when every step's kind and the fields the
// state machine reads (the signal, a wait's `until`, verify's running_binary)
// are well-formed; a bad timeout or backup.keep does not change the order.
export function orderUsable(count: number, broken: Broken): boolean {
  if (broken.exactly(['steps'])) return false;
  for (let i = 0; i < count; i++) {
    const at = (...rest: (string | number)[]) => broken(['steps', i, ...rest]);
    if (broken.exactly(['steps', i]) || at('signal') || broken.exactly(['steps', i, 'wait-for-workers']) || at('wait-for-workers', 'until')) return false;
    if (broken.exactly(['steps', i, 'verify']) || at('verify', 'running_binary')) return false;
  }
  return true;
}

export interface NumberProblem {
  path: (string | number)[];
  pointer: string;
  message: string;
}

// YAML has .inf and .nan, and 1e400 reads as Infinity: no setting takes them,
// and a whole number past 2^53 is no longer exact (keep: 1e21 would reach a
// host as "1e+21"). Reported once here, instead of as two schema errors.
export function numberProblems(data: unknown): NumberProblem[] {
  const found: NumberProblem[] = [];
  const stack: [unknown, (string | number)[]][] = [[data, []]];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'number') {
      const message = Number.isNaN(v) ? 'expected a number, got .nan' : !Number.isFinite(v) ? `expected a finite number, got ${v > 0 ? '' : '-'}.inf (or a number too large to hold)` : Math.abs(v) > Number.MAX_SAFE_INTEGER ? `${v} is too large (at most ${Number.MAX_SAFE_INTEGER})` : undefined;
      if (message) found.push({ path, pointer: toPointer(path), message });
    } else if (Array.isArray(v)) v.forEach((x, i) => stack.push([x, [...path, i]]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) stack.push([x, [...path, k]]);
  }
  return found;
}
