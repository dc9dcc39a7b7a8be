// {{ name }} in string values. Only plain names: a playbook is data, not a
// template language, so anything fancier is an error rather than a surprise.
import { closest } from './closest.js';
import type { Path } from './yaml.js';

const EXPR = /\{\{(.*?)\}\}/g;
const NAME = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*$/;

// Vars that refer to vars can double at every step (a: "{{b}}{{b}}", b: ...):
// no value a playbook needs is anywhere near this, and past it the expansion stops.
export const MAX_EXPANDED = 64 * 1024;
// ...and what all of a playbook's values may grow by together, over every host
// (thousands of hosts with a few paths each grow by a few MiB).
// Reading counts too (with a little for each value's own cost): a host list
// times a step list that differs per host is quadratic.
export const MAX_GROWTH = 64 * 1024 * 1024;

const MAX_DEPTH = 100;

/** What interpolation may still add to (and read of) a playbook, shared by every call for one load. */
export interface Budget {
  left: number;
  /** said once: after that every value is simply cut */
  told?: boolean;
}
export const newBudget = (): Budget => ({ left: MAX_GROWTH });

export type Vars = Record<string, unknown>;
export interface InterpolationIssue {
  path: Path;
  message: string;
}

/** The vars a value is interpolated with: a host's own, then the playbook's. */
export interface Scope {
  get(name: string): string | undefined;
  names(): string[];
}

export function scope(vars: Record<string, string>, parent?: Scope): Scope {
  let names: string[] | undefined; // made once: a hostile file may ask for suggestions many times
  return {
    get: (n) => (own(vars, n) ? vars[n] : parent?.get(n)),
    names: () => (names ??= [...Object.keys(vars), ...(parent?.names() ?? [])]),
  };
}

// Only a var's own name counts: `constructor` or `__proto__` is not a variable
// just because every JavaScript object has one.
const own = (o: object, name: string) => Object.prototype.hasOwnProperty.call(o, name);

// a name of any length is allowed; in a message it is cut, so the message stays one short line
const clip = (name: string) => (name.length > 64 ? `${name.slice(0, 64)}...` : name);

/** Resolves vars that refer to other vars; a cycle, an unknown name or an oversized value is an issue. */
export function resolveVars(vars: Vars, issues: (name: string, message: string) => void, budget: Budget = newBudget(), parent?: Scope): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  const visiting = new Set<string>();
  let names: string[] | undefined;
  const known = () => (names ??= [...Object.keys(vars), ...(parent?.names() ?? [])]);
  const resolve = (name: string): string | undefined => {
    if (own(out, name)) return out[name];
    if (!own(vars, name)) return parent?.get(name);
    const raw = vars[name];
    if (typeof raw !== 'string') return (out[name] = String(raw));
    if (visiting.has(name)) {
      issues(name, `variable "${clip(name)}" refers to itself through {{ }}`);
      return '';
    }
    // a chain of thousands of vars, each naming the next, would exhaust the stack
    if (visiting.size >= MAX_DEPTH) {
      issues(name, `variable "${clip(name)}" is reached through more than ${MAX_DEPTH} other variables`);
      return '';
    }
    visiting.add(name);
    const value = substitute(raw, (n) => resolve(n), (msg) => issues(name, msg), known, budget);
    visiting.delete(name);
    return (out[name] = value);
  };
  for (const name of Object.keys(vars)) resolve(name);
  return out;
}

/** `s` with every {{ name }} replaced; a result over MAX_EXPANDED is an issue and comes back cut short. */
export function substitute(s: string, lookup: (name: string) => string | undefined, issue: (message: string) => void, known: () => string[] = () => [], budget: Budget = newBudget()): string {
  if ((budget.left -= s.length + 64) < 0) return exhausted(issue, budget);
  let out = '';
  let last = 0;
  for (const m of s.matchAll(EXPR)) {
    out += s.slice(last, m.index);
    last = m.index! + m[0].length;
    const name = NAME.exec(m[1]!)?.[1];
    let v: string | undefined;
    if (name === undefined) issue(`unsupported expression ${JSON.stringify(m[0].slice(0, 80))}: only {{ name }} is allowed`);
    else if ((v = lookup(name)) === undefined) {
      const guess = closest(name, known());
      issue(`undefined variable {{ ${clip(name)} }}${guess ? ` (did you mean {{ ${guess} }}?)` : ''}`);
    }
    out += v ?? m[0];
    if (out.length > MAX_EXPANDED) return tooLong(issue);
    if ((budget.left -= Math.max(0, (v?.length ?? 0) - m[0].length)) < 0) return exhausted(issue, budget); // a shorter value credits nothing
  }
  out += s.slice(last);
  return out.length > MAX_EXPANDED ? tooLong(issue) : out;
}

function exhausted(issue: (message: string) => void, budget: Budget): string {
  if (budget.told) return '';
  budget.told = true;
  issue(`the playbook's values over all its hosts come to more than ${MAX_GROWTH / 1024 / 1024} MiB: refusing it`);
  return '';
}

function tooLong(issue: (message: string) => void): string {
  issue(`expands to more than ${MAX_EXPANDED / 1024} KiB through {{ }}: refusing it (vars that repeat other vars grow without bound)`);
  return '';
}

/** Every string in `data` interpolated; issues carry the path of the string. */
export function interpolate<T>(data: T, vars: Scope, onIssue: (i: InterpolationIssue) => void, path: (string | number)[] = [], budget: Budget = newBudget()): T {
  if (typeof data === 'string') {
    return substitute(data, (n) => vars.get(n), (message) => onIssue({ path, message }), () => vars.names(), budget) as T;
  }
  if (Array.isArray(data)) return data.map((v, i) => interpolate(v, vars, onIssue, [...path, i], budget)) as T;
  if (data && typeof data === 'object') {
    return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, interpolate(v, vars, onIssue, [...path, k], budget)])) as T;
  }
  return data;
}

export const hasTemplate = (s: string) => /\{\{.*\}\}/.test(s);
