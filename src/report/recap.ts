// The recap: one line per host, Ansible-style counts, its duration; then totals.
import { formatDuration } from '../playbook/duration.js';
import type { HostResult } from '../run/events.js';
import { oneLine } from './terminal-text.js';

// Why: what a recap line needs of a host's outcome.
export interface RecapRow {
  host: string;
  result: HostResult;
  ms: number;
  message?: string;
}

const COLUMNS = ['ok', 'changed', 'failed', 'rolled_back', 'unreachable', 'skipped'] as const;
type Column = (typeof COLUMNS)[number];

// refused and rollback_failed are failures for the counts; the message says which
const COLUMN_OF: Record<HostResult, Column> = {
  ok: 'ok',
  changed: 'changed',
  planned: 'ok',
  failed: 'failed',
  refused: 'failed',
  rollback_failed: 'failed',
  rolled_back: 'rolled_back',
  unreachable: 'unreachable',
  skipped: 'skipped',
};

// Why: SPEC.md's recap, one line per host then the totals, on stdout (stderr with --json).
// The message is host text: escaped (see terminal-text.ts), never printed raw.
export function recapLines(rows: readonly RecapRow[], totalMs: number): string[] {
  const width = Math.max('total'.length, ...rows.map((r) => oneLine(r.host).length));
  const totals = Object.fromEntries(COLUMNS.map((c) => [c, 0])) as Record<Column, number>;
  const lines = rows.map((r) => {
    totals[COLUMN_OF[r.result]]++;
    const counts = COLUMNS.map((c) => `${c}=${COLUMN_OF[r.result] === c ? 1 : 0}`).join(' ');
    // why a host did not change, on the host's line so a grep for the host finds it
    const why = r.message && !['ok', 'changed'].includes(r.result) ? `  ${r.result}: ${oneLine(r.message.replace(/[ \t\r\n]+/g, ' ').trim())}` : '';
    return `${oneLine(r.host).padEnd(width)}  ${counts}  ${formatDuration(r.ms)}${why}`;
  });
  lines.push(`${'total'.padEnd(width)}  ${COLUMNS.map((c) => `${c}=${totals[c]}`).join(' ')}  ${formatDuration(totalMs)}`);
  return lines;
}
