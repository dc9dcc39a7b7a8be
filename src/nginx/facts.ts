// What a host's nginx looks like, gathered in one round trip (src/remote/facts.sh) and
// parsed here without touching the host.
//
// Seen on real nginx 1.22 (Debian), and why the facts are what they are:
// - A master's /proc/PID/cmdline is its title, `nginx: master process ` + the
//   original argv joined by spaces; the argv boundaries are gone. argv[0] is
//   recovered by the script (the shortest space-separated prefix that names a
//   file), the options by parseMasterTitle.
// - /proc/PID/environ is useless: setproctitle overwrote the environment area
//   (it holds the end of the title and NUL padding), so the NGINX= variable a
//   new binary was started with cannot be read back.
// - /proc/PID/exe is the file that was exec'd (not argv[0], which USR2 will
//   exec); it reads `... (deleted)` once the binary was renamed over, and
//   hashing the link still hashes the running image.
import type { Command, ExecOptions, ExecResult, Transport } from '../transport/transport.js';
import { ScriptOutputError } from './format.js';
import { runCommand, scriptCommand } from '../remote/run.js';
import { parseFacts } from './facts-parse.js';
import type { FactsPaths, HostFacts } from './facts-types.js';

export type * from './facts-types.js';
export { parseFacts } from './facts-parse.js';
export { daemonRule, parseMasterTitle } from './master-args.js';

/** Run src/remote/facts.sh on a host (one round trip) and parse it. */
export async function gatherFacts(t: Transport, paths: FactsPaths, opts: ExecOptions = {}): Promise<HostFacts> {
  return factsOf(t.host, await runCommand(t, factsCommand(paths, opts)));
}

/** The facts script's command, to run alone or in a sequence; factsOf reads its result. */
export function factsCommand(paths: FactsPaths, opts: ExecOptions = {}): Command {
  for (const [name, p] of Object.entries(paths)) {
    if (!p.startsWith('/')) throw new Error(`${name} must be an absolute path: ${p}`);
  }
  return scriptCommand('facts', [paths.pidFile, paths.binary, paths.errorLog], { timeoutMs: 20_000, ...opts });
}

/** The facts from factsCommand's result, or why there are none. */
export function factsOf(host: string, r: ExecResult): HostFacts {
  if (r.code !== 0) {
    throw new ScriptOutputError(`facts script failed on ${host} (exit ${r.code}): ${r.stderr.trim()}`, r.stdout);
  }
  return parseFacts(r.stdout);
}
