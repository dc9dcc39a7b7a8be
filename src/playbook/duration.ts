// Durations as the playbook writes them: 500ms, 10s, 1.5m, 1h.
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

// The longest a Node timer can wait (2^31-1 ms, about 24.8 days): a longer
// setTimeout fires after 1 ms instead, with a TimeoutOverflowWarning.
export const MAX_DURATION_MS = 2 ** 31 - 1;

export function parseDuration(s: string): number | undefined {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)\s*$/.exec(s);
  return m ? Math.round(Number(m[1]) * UNIT_MS[m[2]!]!) : undefined;
}

// Why: durations for people (progress, the recap): 980ms, 1.2s, 2m5s, 1h2m3s.
export function formatDuration(ms: number): string {
  if (ms < 999.5) return `${Math.round(ms)}ms`;
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000); // 119.6s is 2m0s, not 1m60s
  return s < 3600 ? `${Math.floor(s / 60)}m${s % 60}s` : `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m${s % 60}s`;
}
