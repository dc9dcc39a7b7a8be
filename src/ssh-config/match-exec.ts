// `Match exec`: the command runs as ssh runs it (readconf.c execute_in_shell):
// the user's shell, `-c`, exit 0 is a match. Its output is not read (a child
// left behind by a killed shell could hold a pipe open past the time bound).
import { spawnSync } from 'node:child_process';

export const MATCH_EXEC_TIMEOUT_MS = 10_000;

/** true when the command exits 0; throws (with the reason) when it cannot run or takes too long. */
export function runMatchExec(command: string, timeoutMs = MATCH_EXEC_TIMEOUT_MS): boolean {
  const shell = process.env.SHELL || '/bin/sh';
  const r = spawnSync(shell, ['-c', command], { stdio: 'ignore', timeout: timeoutMs, killSignal: 'SIGKILL' });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') throw new Error(`did not finish within ${timeoutMs / 1000} s (killed)`);
  if (r.error) throw new Error(`cannot run ${shell}: ${r.error.message}`);
  if (r.signal) throw new Error(`killed by ${r.signal}`);
  return r.status === 0;
}
