// wait-for-workers: a loop that runs ON the host (src/remote/wait.sh, ~15 ms period),
// so a wait costs one round trip however long it lasts.
import type { Command, ExecResult, Transport } from '../transport/transport.js';
import { decodeStr, int, parseLines, ScriptOutputError } from './format.js';
import { toProcessInfo, type ProcessInfo } from './process.js';
import { runCommand, scriptCommand } from '../remote/run.js';

// the playbook's `until` vocabulary, under the names this module has always used
export { WAIT_UNTIL as WAIT_MODES, type WaitUntil as WaitMode } from '../playbook/vocabulary.js';
import { WAIT_UNTIL as WAIT_MODES, type WaitUntil as WaitMode } from '../playbook/vocabulary.js';

export type WaitFailure =
  /** the condition did not hold before the timeout; `alive` says what is left */
  | 'timeout'
  /** the new binary exited (or could not be exec'd): the old master renamed
   * .oldbin back and serves on with its workers */
  | 'new-binary-exited'
  /** the old master logged "the changing binary signal is ignored" */
  | 'usr2-ignored'
  /** new-master-ready: the old master died or is a zombie */
  | 'old-master-gone'
  | 'bad-args';

export interface AliveProcess extends ProcessInfo {
  /** which side it belongs to: `old-master`, `old-child`, `new-master`, `new-child` */
  scope: string;
}

export type WaitResult =
  | {
      ok: true;
      /** the master the pid file names now, when it is not the old one */
      newMasterPid?: number;
      /** its live workers at that moment (new-master-ready needs only one to be up) */
      workers: number[];
      elapsedMs?: number;
      /** e.g. the old master vanished during old-workers-exited */
      note?: string;
    }
  | {
      ok: false;
      reason: WaitFailure;
      message: string;
      /** the error log line that decided, if any */
      logLine?: string;
      /** pid in `<pidFile>` and `<pidFile>.oldbin` when it failed */
      pidFilePid?: number;
      oldbinPid?: number;
      /** every process still there: old master and children, new master and children
       * (workers with their socket / TCP connection counts) */
      alive: AliveProcess[];
      elapsedMs?: number;
    };

export interface WaitArgs {
  mode: WaitMode;
  /** pid of the master that served before USR2 */
  oldPid: number;
  pidFile: string;
  timeoutMs: number;
  errorLog: string;
  /** error log size before USR2 (facts.errorLog.size): only later lines count */
  errorLogSizeAtStart: number;
  /** pid file ctime before USR2 (facts.pidFile.ctime): lets new-master-ready see the
   * old master rename .oldbin back even when error_log hides the NOTICE line */
  pidFileCtimeAtStart?: string;
}

/** How much longer than the script's own timeout the round trip may take. */
const EXEC_MARGIN_MS = 10_000;

/** Runs the wait on the host (one round trip, however long it lasts). */
export async function waitFor(t: Transport, a: WaitArgs): Promise<WaitResult> {
  return waitResultOf(t.host, await runCommand(t, waitCommand(a)));
}

/** The wait script's command, to run alone or behind its signal in a sequence; waitResultOf reads its result. */
export function waitCommand(a: WaitArgs): Command {
  if (!WAIT_MODES.includes(a.mode)) throw new TypeError(`unknown wait mode: ${String(a.mode)}`);
  if (!Number.isSafeInteger(a.oldPid) || a.oldPid <= 1) throw new TypeError(`bad old master pid: ${a.oldPid}`);
  if (!Number.isSafeInteger(a.timeoutMs) || a.timeoutMs < 0) throw new TypeError(`bad timeout: ${a.timeoutMs}`);
  if (!a.pidFile.startsWith('/')) throw new TypeError(`pid file must be absolute: ${a.pidFile}`);
  return scriptCommand('wait', waitScriptArgs(a), { timeoutMs: a.timeoutMs + EXEC_MARGIN_MS });
}

/** The wait script's positional arguments (src/remote/wait.sh). */
export function waitScriptArgs(a: WaitArgs): string[] {
  const args = [
    a.mode, String(a.oldPid), a.pidFile, String(a.timeoutMs), a.errorLog,
    String(Math.max(0, Math.floor(a.errorLogSizeAtStart))),
  ];
  if (a.pidFileCtimeAtStart !== undefined) args.push(a.pidFileCtimeAtStart);
  return args;
}

/** The wait's outcome from waitCommand's result (exit 0, 1 or 2); anything else is the script failing. */
export function waitResultOf(host: string, r: ExecResult): WaitResult {
  if (r.code !== 0 && r.code !== 1 && r.code !== 2) {
    throw new ScriptOutputError(`wait script failed on ${host} (exit ${r.code}): ${r.stderr.trim()}`, r.stdout);
  }
  return parseWait(r.stdout);
}

export function parseWait(stdout: string): WaitResult {
  const raw = parseLines(stdout, 'wait');
  const one = (k: string): string | undefined => raw.values.get(k)?.[0];
  const result = one('result');
  const elapsedMs = int(one('elapsed_ms'));
  if (result === 'ok') {
    const ok: WaitResult = { ok: true, workers: (raw.values.get('worker') ?? []).map(Number) };
    const nm = int(one('newmaster'));
    if (nm !== undefined) ok.newMasterPid = nm;
    if (elapsedMs !== undefined) ok.elapsedMs = elapsedMs;
    const note = one('note_s');
    if (note !== undefined) ok.note = decodeStr(note);
    return ok;
  }
  if (result !== 'fail') throw new ScriptOutputError(`wait output has no result`, stdout);
  const reasonRaw = one('reason');
  const reasons: WaitFailure[] = ['timeout', 'new-binary-exited', 'usr2-ignored', 'old-master-gone', 'bad-args'];
  if (!reasons.includes(reasonRaw as WaitFailure)) throw new ScriptOutputError(`unknown wait failure: ${reasonRaw}`, stdout);
  const fail: WaitResult = {
    ok: false,
    reason: reasonRaw as WaitFailure,
    message: decodeStr(one('message_s') ?? '='),
    alive: raw.procs.map((p) => ({ scope: p.scope, ...toProcessInfo(p) })).filter((p) => p.exists),
  };
  const line = one('logline_s');
  if (line !== undefined) fail.logLine = decodeStr(line);
  const pf = int(one('pidfile'));
  if (pf !== undefined) fail.pidFilePid = pf;
  const ob = int(one('oldbin'));
  if (ob !== undefined) fail.oldbinPid = ob;
  if (elapsedMs !== undefined) fail.elapsedMs = elapsedMs;
  return fail;
}

/** One line per process still alive, for a report: "4742 S nginx: worker process (2 TCP established)". */
export function describeAlive(p: AliveProcess): string {
  const conns = p.tcpEstablished !== undefined
    ? ` (${p.tcpEstablished} TCP established${p.tcpOther ? `, ${p.tcpOther} closing` : ''})`
    : '';
  return `${p.scope} ${p.pid} ${p.state ?? '?'} ${p.title}${conns}`;
}
