// {{ name }} in string values. Only plain names: a playbook is data, not a
// template language, so anything fancier is an error rather than a surprise.
import { closest } from './closest.js';
import type { Path } from './yaml.js';

const EXPR = /\{\{(.*?)\}\}/g;
const NAME = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*$/;

export type Vars = Record<string, unknown>;
export interface InterpolationIssue {
  path: Path;
  message: string;
}

/** Resolves vars that refer to other vars; a cycle or an unknown name is an issue. */
export function resolveVars(vars: Vars, issues: (name: string, message: string) => void): Record<string, string> {
  const out: Record<string, string> = {};
  const visiting = new Set<string>();
  const resolve = (name: string): string | undefined => {
    if (name in out) return out[name];
    if (!(name in vars)) return undefined;
    const raw = vars[name];
    if (typeof raw !== 'string') return (out[name] = String(raw));
    if (visiting.has(name)) {
      issues(name, `variable "${name}" refers to itself through {{ }}`);
      return '';
    }
    visiting.add(name);
    const value = substitute(raw, (n) => resolve(n), (msg) => issues(name, msg));
    visiting.delete(name);
    return (out[name] = value);
  };
  for (const name of Object.keys(vars)) resolve(name);
  return out;
}

export function substitute(s: string, lookup: (name: string) => string | undefined, issue: (message: string) => void, known: () => string[] = () => []): string {
  return s.replace(EXPR, (whole, inner: string) => {
    const m = NAME.exec(inner);
    if (!m) {
      issue(`unsupported expression ${whole}: only {{ name }} is allowed`);
      return whole;
    }
    const v = lookup(m[1]);
    if (v === undefined) {
      const guess = closest(m[1], known());
      issue(`undefined variable {{ ${m[1]} }}${guess ? ` (did you mean {{ ${guess} }}?)` : ''}`);
      return whole;
    }
    return v;
  });
}

/** Every string in `data` interpolated; issues carry the path of the string. */
export function interpolate<T>(data: T, vars: Record<string, string>, onIssue: (i: InterpolationIssue) => void, path: (string | number)[] = []): T {
  if (typeof data === 'string') {
    return substitute(data, (n) => vars[n], (message) => onIssue({ path, message }), () => Object.keys(vars)) as T;
  }
  if (Array.isArray(data)) return data.map((v, i) => interpolate(v, vars, onIssue, [...path, i])) as T;
  if (data && typeof data === 'object') {
    return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, interpolate(v, vars, onIssue, [...path, k])])) as T;
  }
  return data;
}

export const hasTemplate = (s: string) => /\{\{.*\}\}/.test(s);
