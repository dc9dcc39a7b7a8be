// Signals to an nginx master, checked on the host right before kill: a stale pid
// file can name any process, and a zombie old master still passes kill -0.
import type { Command, Transport } from '../transport/transport.js';
import { runCommand, scriptCommand } from '../remote/run.js';

/** Exit codes of src/remote/signal.sh (0 = sent). */
export const SIGNAL_EXIT = {
  sent: 0,
  badArgs: 2,
  noSuchProcess: 3,
  zombie: 4,
  notNginxMaster: 5,
  killFailed: 6,
} as const;

// the playbook's signal vocabulary, under the names this module has always used
export { SIGNALS as NGINX_SIGNALS, type SignalName as NginxSignal } from '../playbook/vocabulary.js';
import { SIGNALS as NGINX_SIGNALS, type SignalName as NginxSignal } from '../playbook/vocabulary.js';

export type SignalRefusal = 'bad-args' | 'no-such-process' | 'zombie' | 'not-nginx-master' | 'kill-failed';

export type SignalResult =
  | { ok: true; signal: NginxSignal; pid: number; message: string }
  | { ok: false; signal: NginxSignal; pid: number; reason: SignalRefusal; message: string };

const REFUSALS: Record<number, SignalRefusal> = {
  [SIGNAL_EXIT.badArgs]: 'bad-args',
  [SIGNAL_EXIT.noSuchProcess]: 'no-such-process',
  [SIGNAL_EXIT.zombie]: 'zombie',
  [SIGNAL_EXIT.notNginxMaster]: 'not-nginx-master',
  [SIGNAL_EXIT.killFailed]: 'kill-failed',
};

export function isNginxSignal(s: string): s is NginxSignal {
  return (NGINX_SIGNALS as readonly string[]).includes(s);
}

/** Send `signal` to `pid` if it is a live nginx master; otherwise a refusal (never throws for those). */
export async function sendSignal(t: Transport, signal: NginxSignal, pid: number, timeoutMs = 10_000): Promise<SignalResult> {
  const r = await runCommand(t, signalCommand(signal, pid, timeoutMs));
  return parseSignal(signal, pid, r.code, r.stdout);
}

/** The signal script's command, to run alone or first in a sequence; parseSignal reads its result. */
export function signalCommand(signal: NginxSignal, pid: number, timeoutMs = 10_000): Command {
  if (!isNginxSignal(signal)) throw new TypeError(`signal not allowed: ${String(signal)}`);
  if (!Number.isSafeInteger(pid) || pid <= 1) throw new TypeError(`bad pid: ${pid}`);
  return scriptCommand('signal', [signal, String(pid)], { timeoutMs });
}

export function parseSignal(signal: NginxSignal, pid: number, code: number | null, stdout: string): SignalResult {
  const message = stdout.trim().split('\n')[0] ?? '';
  if (code === SIGNAL_EXIT.sent) return { ok: true, signal, pid, message };
  const reason = code === null ? undefined : REFUSALS[code];
  if (!reason) throw new Error(`signal script: unexpected exit ${code}: ${message}`);
  return { ok: false, signal, pid, reason, message };
}
