// Checks on values as a host will see them, after {{ }} interpolation: paths
// used on hosts must be absolute and plain, durations and digests must parse.
import { MAX_DURATION_MS, parseDuration } from './duration.js';
import { quote } from './problem.js';

// Host paths go to remote commands as quoted arguments anyway; refusing shell
// and control characters outright catches typos and pasted commands early.
const SAFE_PATH = /^[A-Za-z0-9._/@%+=:,~-]+$/;

export function hostPathProblem(value: string): string | undefined {
  if (!value.startsWith('/')) return `host path ${quote(value)} is not absolute`;
  // eslint-disable-next-line no-control-regex
  const control = /[\x00-\x1f\x7f]/.exec(value);
  if (control) return `host path ${quote(value)} contains a control character (${JSON.stringify(control[0])})`;
  if (!SAFE_PATH.test(value)) {
    const bad = [...value].find((c) => !SAFE_PATH.test(c));
    return `host path ${quote(value)} contains ${JSON.stringify(bad)}: host paths may hold only letters, digits and . _ - / + @ % , = : ~`;
  }
  if (value.split('/').includes('..')) return `host path ${quote(value)} contains ".."`;
  return undefined;
}

export function durationProblem(value: string): string | undefined {
  const ms = parseDuration(value);
  if (ms === undefined) return `${quote(value)} is not a duration (expected e.g. 500ms, 10s, 5m, 1h)`;
  if (!(ms <= MAX_DURATION_MS)) return `${quote(value)} is longer than hotswap can wait (at most 596h, about 24.8 days)`;
  return undefined;
}

export function sha256Problem(value: string): string | undefined {
  return /^[0-9a-f]{64}$/.test(value) ? undefined : `${quote(value)} is not a sha256 (expected 64 lowercase hex digits)`;
}

export function urlProblem(value: string): string | undefined {
  try {
    const u = new URL(value);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return `${quote(value)} is not an http:// or https:// URL`;
    if (/[\s\x00-\x1f]/.test(value)) return `${quote(value)} contains white space or a control character`;
    return undefined;
  } catch {
    return `${quote(value)} is not a valid URL`;
  }
}

export function percentProblem(value: number | string): string | undefined {
  if (typeof value === 'number') return undefined;
  const pct = Number(value.trim().replace(/%$/, ''));
  if (!/%\s*$/.test(value) || Number.isNaN(pct)) return `${quote(value)} is not a percentage (expected e.g. "25%")`;
  if (pct > 100) return `${quote(value)} is over 100%`;
  if (pct <= 0) return `${quote(value)} must be above 0%`;
  return undefined;
}
