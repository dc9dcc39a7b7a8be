// Progress as plain lines, for logs and pipes (no terminal).
import { formatDuration } from '../playbook/duration.js';
import type { RunEvent } from '../run/events.js';
import { oneLine } from './terminal-text.js';

// Why: without a terminal (CI, logs) progress is one line per event that matters.
// Exactly one: messages carry host text (nginx -t output, stderr), so whatever
// control character or line break they hold is escaped, never printed.
export function plainLine(e: RunEvent): string | undefined {
  const line = unescaped(e);
  return line === undefined ? undefined : oneLine(line);
}

function unescaped(e: RunEvent): string | undefined {
  switch (e.type) {
    case 'run-start':
      return `${e.dryRun ? 'plan' : 'apply'}: ${e.name}: ${e.hosts.length} host${e.hosts.length === 1 ? '' : 's'} in ${e.batches.length} batch${e.batches.length === 1 ? '' : 'es'}`;
    case 'batch-start':
      return `batch ${e.batch}: ${e.hosts.join(', ')}`;
    case 'step-end':
      if (e.result === 'skipped' && !e.message) return undefined; // the host line says why
      return `[${e.host}] ${e.step + 1}. ${e.label}: ${e.result} (${formatDuration(e.ms)})${e.message ? `: ${e.message}` : ''}`;
    case 'warning':
      return `[${e.host}] warning: ${e.message}`;
    case 'rollback-start':
      return `[${e.host}] rolling back (${e.phase}): ${e.reason}`;
    case 'rollback-end':
      return `[${e.host}] rollback ${e.ok ? 'done' : 'FAILED'} (${formatDuration(e.ms)}): ${e.message}`;
    case 'host-end':
      return `[${e.host}] ${e.result} (${formatDuration(e.ms)})${e.message ? `: ${e.message}` : ''}`;
    case 'batch-end': {
      if (!e.failed) return undefined;
      const limit = e.maxFailPercentage === undefined ? '' : ` (max_fail_percentage ${e.maxFailPercentage}%)`;
      return `batch ${e.batch}: ${e.failed} of ${e.total} failed${limit}${e.halted ? ': halting the rollout' : ''}`;
    }
    case 'batch-skipped':
      return `batch ${e.batch}: not started (${e.reason}): ${e.hosts.join(', ')}`;
    default:
      return undefined;
  }
}
