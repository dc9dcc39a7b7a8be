// Running a host script (scripts.ts) over a transport: the one way hotswap
// starts its own shell on a host. A script is a Command (scriptCommand), so it
// can go alone (runScript) or in a sequence with others (Transport.sequence).
import type { Command, ExecOptions, ExecResult, Transport } from '../transport/transport.js';
import { scriptArgv, type ScriptName } from './scripts.js';

export class RemoteError extends Error {
  constructor(message: string, readonly code: number | null) {
    super(message);
    this.name = 'RemoteError';
  }
}

/** A script with these positional arguments, as one command (for exec or a sequence). */
export function scriptCommand(name: ScriptName, args: readonly string[], opts: ExecOptions = {}): Command {
  return { argv: scriptArgv(name, args), ...opts };
}

/** Runs one command alone. */
export function runCommand(t: Transport, c: Command): Promise<ExecResult> {
  const { argv, ...opts } = c;
  return t.exec(argv, opts);
}

/** Runs a script with these positional arguments; its exit code is the caller's to read. */
export function runScript(t: Transport, name: ScriptName, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return runCommand(t, scriptCommand(name, args, opts));
}

/** Runs a script that must exit 0 (within a minute unless told), and returns its stdout; else a RemoteError with its last words. */
export function runScriptOk(t: Transport, name: ScriptName, args: readonly string[], opts: ExecOptions = {}): Promise<string> {
  return execOk(t, scriptArgv(name, args), opts);
}

/** The same for a plain program and its arguments (no shell). */
export async function execOk(t: Transport, argv: readonly string[], opts: ExecOptions = {}): Promise<string> {
  return okStdout(await t.exec(argv, { timeoutMs: 60_000, ...opts }));
}

/** The stdout of a command that had to exit 0; else a RemoteError with its last words. */
export function okStdout(r: ExecResult): string {
  if (r.code !== 0) throw new RemoteError((r.stderr.trim() || r.stdout.trim() || `exit code ${r.code}`).split('\n').slice(-5).join('; '), r.code);
  return r.stdout;
}
