// Reads a V8 .cpuprofile (node --cpu-prof) and says where hotswap's own CPU
// time went: by bucket (module loading, each package, hotswap's code, GC) and
// by the hotswap functions and package entry points that cost the most.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** CPU time sampled, idle excluded (ms) */
  cpuMs: number;
  idleMs: number;
  /** self time by bucket, largest first */
  buckets: { name: string; ms: number }[];
  /** inclusive time of the costliest frames of interest, largest first */
  frames: { name: string; ms: number }[];
}

/** Where a frame's code lives: a package name, "hotswap src/…", a node internal. */
function bucketOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'garbage collection';
  if (fn === '(program)') return 'V8/native (parse, compile, …)';
  if (!url) return fn === '(root)' ? 'V8/native (parse, compile, …)' : `native ${fn}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `package ${pkg[1]}`;
  if (url.startsWith('node:internal/modules')) return 'node: module loading (resolve, read, link)';
  if (url.startsWith('node:')) return 'node: core (fs, streams, crypto, net, …)';
  const own = /\/dist\/((?:src|lab|bench)\/[^/]+)\//.exec(url);
  if (own) return `hotswap ${own[1]}/`;
  return url;
}

function frameName(n: ProfileNode): string {
  const u = n.callFrame.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/');
  return `${n.callFrame.functionName || '(anonymous)'} ${u}:${n.callFrame.lineNumber + 1}`;
}

export function summarizeProfile(dir: string, topFrames = 14): ProfileSummary | null {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return null;
  const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000));

  const buckets = new Map<string, number>();
  const incl = new Map<string, number>();
  let cpuMs = 0;
  let idleMs = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    if (n.callFrame.functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    cpuMs += ms;
    const b = bucketOf(n.callFrame.url, n.callFrame.functionName);
    buckets.set(b, (buckets.get(b) ?? 0) + ms);
    // inclusive: every distinct frame of interest on the stack. Interesting =
    // hotswap's compiled code, and the first frame inside each package (its entry).
    const seen = new Set<string>();
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      const f = byId.get(x)!;
      const url = f.callFrame.url;
      const ours = /\/dist\/src\//.test(url) && f.callFrame.functionName !== '';
      const entry = /node_modules\//.test(url) && !/node_modules\//.test(byId.get(parent.get(x) ?? -1)?.callFrame.url ?? 'node_modules/');
      if (!ours && !entry) continue;
      const k = frameName(f);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + ms);
    }
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([name, ms]) => ({ name, ms }));
  // main() and the command wrappers contain everything: not informative
  const frames = sorted(incl).filter((f) => !/^(main|run|\(anonymous\)) dist\/src\/cli\/(main|apply|validate)\.js/.test(f.name)).slice(0, topFrames);
  return { cpuMs, idleMs, buckets: sorted(buckets), frames };
}
