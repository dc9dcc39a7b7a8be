// Which hosts a command works on (--limit) and the builds it would copy:
// shared by every command, and light, so that `plan --offline` loads no transport.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { LoadedPlaybook, ResolvedHost } from '../playbook/resolved.js';
import { PatternError, selectHosts, termsText } from '../inventory/pattern.js';
import { localBinary, type LocalBinary } from '../run/local-binary.js';
import { UsageError } from '../errors.js';
import { oneLine } from '../report/terminal-text.js';

// Why: --limit narrows the playbook's hosts (names, groups, globs, ~regex, !exclusions), keeping their order.
export function selectedHosts(loaded: LoadedPlaybook, limit: string | undefined): ResolvedHost[] {
  if (limit === undefined) return loaded.hosts;
  if (!limit.trim()) throw new UsageError('--limit needs a pattern (host names, groups, globs, !name to exclude)');
  let selection;
  try {
    selection = selectHosts(limit, { hosts: loaded.hosts.map((h) => h.name), groups: loaded.groups });
  } catch (err) {
    if (err instanceof PatternError) throw new UsageError(`--limit: ${err.message}`);
    throw err;
  }
  const { hosts, unmatched } = selection;
  if (unmatched.length) process.stderr.write(`hotswap: warning: --limit: nothing matches ${oneLine(termsText(unmatched))}\n`);
  if (!hosts.length) throw new UsageError(`--limit ${JSON.stringify(termsText([limit]))} matches no host of the playbook`);
  const keep = new Set(hosts);
  return loaded.hosts.filter((h) => keep.has(h.name));
}

// Why: every new build is hashed once, before any host is contacted, and shown to the operator.
export async function hashBuilds(loaded: LoadedPlaybook, hosts: ResolvedHost[]): Promise<Map<string, LocalBinary>> {
  const builds = new Map<string, LocalBinary>();
  for (const h of hosts) {
    for (const s of h.steps) {
      const c = s['copy-binary'];
      if (c && !builds.has(c.src)) builds.set(c.src, await localBinary(loaded.dir, c.src, c.sha256));
      // copy-binary's modules: hashed the same way, keyed by their src
      for (const m of moduleFiles(c)) if (!builds.has(m.src)) builds.set(m.src, await localBinary(loaded.dir, m.src, m.sha256));
    }
  }
  return builds;
}

/** copy-binary's module files as {src, sha256}. */
function moduleFiles(c: { modules?: (string | { src: string; sha256?: string })[] } | undefined): { src: string; sha256?: string }[] {
  return (c?.modules ?? []).map((m) => (typeof m === 'string' ? { src: m } : m));
}

export interface OfflineBuild {
  path: string;
  /** undefined when the file is not on this machine */
  sha256?: string;
}

// Why: an offline plan is a preview, made anywhere (a laptop, CI, a fresh clone
// of the examples): a build that is not here is shown by its path with its
// hash unknown; one that is here must still match the playbook's sha256.
export async function offlineBuilds(loaded: LoadedPlaybook, hosts: ResolvedHost[]): Promise<Map<string, OfflineBuild>> {
  const builds = new Map<string, OfflineBuild>();
  for (const h of hosts) {
    for (const s of h.steps) {
      const c = s['copy-binary'];
      if (!c) continue;
      for (const f of [{ src: c.src, sha256: c.sha256 }, ...moduleFiles(c)]) {
        if (builds.has(f.src)) continue;
        const path = resolve(loaded.dir, f.src.replace(/^~(?=\/)/, process.env.HOME ?? '~'));
        builds.set(f.src, existsSync(path) ? await localBinary(loaded.dir, f.src, f.sha256) : { path });
      }
    }
  }
  return builds;
}
