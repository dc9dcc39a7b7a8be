// ajv's raw errors, turned into what an operator can act on: one message per
// real mistake, at the node to fix. Unions (anyOf/oneOf) report every branch
// that failed; we keep only the branch the value was evidently meant for.
import type { ErrorObject } from 'ajv';
import { closest } from './closest.js';
import { DURATION_RE, STEP_KINDS } from './vocabulary.js';
import { quote, type Problem } from './problem.js';
import type { Located, Path } from './yaml.js';

type Err = ErrorObject<string, Record<string, any>, unknown> & { parentSchema?: any; data?: unknown };

export function schemaProblems(errors: Err[], src: Located): Problem[] {
  const kept = pruneUnions(errors);
  const unknownKeyAt = new Set(kept.filter((o) => o.keyword === 'additionalProperties').map((o) => o.instancePath));
  const problems: Problem[] = [];
  suggestions.left = 200;
  for (const e of kept) {
    const p = describe(e, unknownKeyAt, src);
    if (p) problems.push(p);
  }
  return problems;
}

const isUnion = (e: Err) => e.keyword === 'anyOf' || e.keyword === 'oneOf';
const within = (path: string, base: string) => path === base || path.startsWith(base + '/');
const under = (e: Err, u: Err) => e !== u && e.schemaPath.startsWith(u.schemaPath + '/') && within(e.instancePath, u.instancePath);
const branchOf = (e: Err, u: Err) => Number(e.schemaPath.slice(u.schemaPath.length + 1).split('/')[0]);
const atRoot = (e: Err, u: Err) => e.instancePath === u.instancePath;

// A union error left standing because every branch had the wrong type is itself a type mismatch.
const typeMismatch = new WeakSet<Err>();
const wrongType = (e: Err, u: Err) => atRoot(e, u) && (e.keyword === 'type' || typeMismatch.has(e));

// Linear in the number of errors (a hostile file makes hundreds of thousands):
// ajv reports a union's branch errors just before the union's own error, so
// they are the run of errors under it that precedes it.
export function pruneUnions(all: Err[]): Err[] {
  const removed = new Set<Err>();
  const position = new Map(all.map((e, i) => [e, i]));
  const insideOf = (u: Err) => {
    const found: Err[] = [];
    for (let i = position.get(u)! - 1; i >= 0 && under(all[i]!, u); i--) if (!removed.has(all[i]!)) found.push(all[i]!);
    return found.reverse();
  };
  // innermost unions first, so an outer union sees already-pruned branches
  const unions = all.filter(isUnion).sort((a, b) => b.schemaPath.length - a.schemaPath.length);
  for (const u of unions) {
    if (removed.has(u)) continue;
    const inside = insideOf(u);
    if (inside.length === 0) continue; // e.g. oneOf matched twice: the union error says it all
    const branches = new Map<number, Err[]>();
    for (const e of inside) branches.set(branchOf(e, u), [...(branches.get(branchOf(e, u)) ?? []), e]);
    const fitting = [...branches.values()].filter((errs) => !errs.some((e) => wrongType(e, u)));
    // every branch has the wrong type; or a choice between constants; or only
    // `required` alternatives (a step's kind): the union itself says it best
    const constants = fitting.length > 1 && fitting.every((errs) => errs.some((e) => atRoot(e, u) && (e.keyword === 'const' || e.keyword === 'enum')));
    const requiredOnly = inside.every((e) => atRoot(e, u) && e.keyword === 'required');
    if (fitting.length === 0 || constants || requiredOnly) {
      inside.forEach((e) => removed.add(e));
      if (fitting.length === 0) typeMismatch.add(u);
      continue;
    }
    fitting.sort((a, b) => a.length - b.length);
    const keep = new Set(fitting[0]);
    removed.add(u);
    inside.forEach((e) => keep.has(e) || removed.add(e));
  }
  return all.filter((e) => !removed.has(e));
}

function toPath(instancePath: string): (string | number)[] {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${quote(v)}`;
  return `${typeof v} ${String(v)}`;
}

const article = (t: string) => ({ object: 'a mapping', array: 'a list', string: 'a string', integer: 'a whole number', number: 'a number', boolean: 'true or false', null: 'nothing' })[t] ?? t;

function unionExpectation(u: Err): string {
  const s = u.parentSchema ?? u.schema;
  const branches: any[] = Array.isArray(u.schema) ? u.schema : [];
  const consts = branches.filter((b) => b && 'const' in b).map((b) => JSON.stringify(b.const));
  if (consts.length === branches.length && consts.length) return `one of ${consts.join(', ')}`;
  const kinds = branches.map((b) => ('const' in (b ?? {}) ? JSON.stringify(b.const) : b?.type === 'object' ? 'a mapping' : b?.type === 'array' ? 'a list' : b?.anyOf ? 'a name' : article(b?.type)));
  return s?.description ? `${[...new Set(kinds)].join(' or ')} (${s.description.replace(/\.$/, '')})` : [...new Set(kinds)].join(' or ');
}

const suggestions = { left: 0 };

function describe(e: Err, unknownKeyAt: ReadonlySet<string>, src: Located): Problem | undefined {
  const path = toPath(e.instancePath);
  const at = (p: Path, message: string, where: 'key' | 'value' = 'value', about: Path = p) => src.problem(p, message, where, about);
  const parent = e.parentSchema ?? {};
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const known = Object.keys(parent.properties ?? {});
      // suggestions for the first few hundred: nobody reads further, and each costs
      const guess = suggestions.left-- > 0 ? closest(key, known) : undefined;
      return at([...path, key], guess ? `unknown key ${quote(key)} (did you mean "${guess}"?)` : `unknown key ${quote(key)}; expected one of: ${known.join(', ')}`, 'key', path);
    }
    case 'required':
      return at(path, `missing required key "${e.params.missingProperty}"`, path.length ? 'key' : 'value');
    case 'oneOf':
    case 'anyOf': {
      if (parent.oneOf && parent.properties && STEP_KINDS.every((k) => k in parent.properties)) return stepKindProblem(e, unknownKeyAt, src, path);
      return at(path, `expected ${unionExpectation(e)}, got ${typeName(e.data)}`);
    }
    case 'type':
      return at(path, `expected ${article(String(e.params.type))}, got ${typeName(e.data)}`);
    case 'const':
      return at(path, `expected ${JSON.stringify(e.params.allowedValue)}, got ${typeName(e.data)}`);
    case 'enum':
      return at(path, `expected one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, got ${typeName(e.data)}`);
    case 'pattern':
      return at(path, patternMessage(String(e.params.pattern), e.data));
    case 'propertyNames':
      return undefined; // reported by the nested pattern error
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
      return at(path, `must be ${e.keyword === 'maximum' ? 'at most' : 'at least'} ${e.params.limit}, got ${String(e.data)}`);
    case 'minItems':
      return at(path, `must list at least ${e.params.limit} item${e.params.limit === 1 ? '' : 's'}`);
    case 'minLength':
      return at(path, 'must not be empty');
    case 'minProperties':
      return at(path, 'must not be empty');
    default:
      return at(path, e.message ?? 'invalid value');
  }
}

function patternMessage(pattern: string, data: unknown): string {
  const got = quote(data);
  if (pattern.includes(DURATION_RE) && pattern.includes('confirm')) return `${got} is neither a duration (e.g. 500ms, 10s, 5m) nor "confirm"`;
  if (pattern.includes(DURATION_RE)) return `${got} is not a duration (expected e.g. 500ms, 10s, 5m, 1h)`;
  if (pattern.includes('[0-9a-f]{64}')) return `${got} is not a sha256 (expected 64 lowercase hex digits)`;
  if (pattern.includes('%')) return `${got} is not a percentage (expected e.g. "25%")`;
  if (pattern.includes('https?')) return `${got} is not an http:// or https:// URL`;
  if (pattern.includes('[A-Za-z_]')) return `${got} is not a valid variable name (letters, digits and _, not starting with a digit)`;
  return `${got} does not match ${pattern}`;
}

// A step item must name exactly one kind: say which kinds it is missing or has twice.
function stepKindProblem(e: Err, unknownKeyAt: ReadonlySet<string>, src: Located, path: (string | number)[]): Problem | undefined {
  // not a mapping at all: the type error beside this one says so
  if (typeof e.data !== 'object' || e.data === null || Array.isArray(e.data)) return undefined;
  const data = e.data as Record<string, unknown>;
  const present = STEP_KINDS.filter((k) => k in data);
  if (present.length > 1) return src.problem([...path, present[1]!], `a step has exactly one kind, but this one has ${present.map((k) => `"${k}"`).join(' and ')}; split it into separate steps`, 'key', path);
  // a misspelt kind is already reported as an unknown key with a suggestion
  if (unknownKeyAt.has(e.instancePath)) return undefined;
  return src.problem(path, `a step needs one of: ${STEP_KINDS.join(', ')}`);
}
