// Stopping the process USR2 started, when it never became a serving master.
// Only a live child of the old master that has exec'd qualifies (checked on
// the host right before each kill, see src/remote/stop-usr2-child.sh).
import type { Transport } from '../transport/transport.js';
import { runScript } from '../remote/run.js';

export type StopResult = { ok: true; how: 'gone' | 'TERM' | 'KILL' } | { ok: false; message: string };

export async function stopUsr2Child(t: Transport, oldPid: number, pid: number, graceSeconds = 2): Promise<StopResult> {
  if (!Number.isSafeInteger(pid) || pid <= 1 || !Number.isSafeInteger(oldPid) || oldPid <= 1) throw new TypeError(`bad pids: ${oldPid} ${pid}`);
  const r = await runScript(t, 'stop-usr2-child', [String(oldPid), String(pid), String(graceSeconds)], { timeoutMs: (graceSeconds + 10) * 1000 });
  return parseStop(r.code, r.stdout);
}

export function parseStop(code: number | null, stdout: string): StopResult {
  const line = stdout.trim().split('\n').pop() ?? '';
  if (code === 0 && line === 'gone') return { ok: true, how: 'gone' };
  const m = /^stopped (TERM|KILL) \d+$/.exec(line);
  if (code === 0 && m) return { ok: true, how: m[1] as 'TERM' | 'KILL' };
  return { ok: false, message: line.replace(/^refused: /, '') || `exit ${code}` };
}
