// Signals to an nginx master, checked on the host right before kill: a stale pid
// file can name any process, and a zombie old master still passes kill -0.
import type { Transport } from '../transport/transport.js';
import { runScript } from '../remote/run.js';

/** Exit codes of src/remote/signal.sh (0 = sent). */
export const SIGNAL_EXIT = {
  sent: 0,
  badArgs: 2,
  noSuchProcess: 3,
  zombie: 4,
  notNginxMaster: 5,
  killFailed: 6,
} as const;

export const NGINX_SIGNALS = ['USR2', 'WINCH', 'QUIT', 'HUP', 'TERM'] as const;
export type NginxSignal = (typeof NGINX_SIGNALS)[number];

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
  if (!isNginxSignal(signal)) throw new TypeError(`signal not allowed: ${String(signal)}`);
  if (!Number.isSafeInteger(pid) || pid <= 1) throw new TypeError(`bad pid: ${pid}`);
  const r = await runScript(t, 'signal', [signal, String(pid)], { timeoutMs });
  return parseSignal(signal, pid, r.code, r.stdout);
}

export function parseSignal(signal: NginxSignal, pid: number, code: number | null, stdout: string): SignalResult {
  const message = stdout.trim().split('\n')[0] ?? '';
  if (code === SIGNAL_EXIT.sent) return { ok: true, signal, pid, message };
  const reason = code === null ? undefined : REFUSALS[code];
  if (!reason) throw new Error(`signal script: unexpected exit ${code}: ${message}`);
  return { ok: false, signal, pid, reason, message };
}
