// A playbook that names only the binary (a packaged nginx): the pid file,
// the config and the error log are read from the host before anything else
// (they decide where the lock and the journal live), the way nginx itself
// decides them (src/nginx/layout.ts). Two plain argv commands, one round trip:
// `BINARY -V` and `BINARY -T`. The master's own -p/-c/-g are only known once
// the facts are read; checkMasterLayout then says whether they move a path.
import type { MasterInfo } from '../nginx/facts.js';
import { deriveLayout, describeLayout, type Layout, type LayoutInput } from '../nginx/layout.js';
import { parseConfigDump } from '../nginx/nginx-conf.js';
import type { DerivedKey, ResolvedHost } from '../playbook/resolved.js';
import type { Transport } from '../transport/transport.js';

export interface HostLayout {
  /** the host with its paths filled in (the same object when nothing was left to the host) */
  host: ResolvedHost;
  /** what plan shows: each path and where it came from */
  lines: string[];
  warnings: string[];
  /** a path that cannot be known: the host must be refused, saying what to give */
  problems: string[];
  /** the inputs, for checkMasterLayout */
  input?: LayoutInput;
}

const TIMEOUT_MS = 20_000;
const KEY: Record<DerivedKey, 'pidFile' | 'conf' | 'errorLog'> = { pid_file: 'pidFile', conf: 'conf', error_log: 'errorLog' };

export async function resolveLayout(t: Transport, host: ResolvedHost): Promise<HostLayout> {
  const n = host.nginx;
  const derive = n.derive ?? [];
  if (!derive.length) return { host, lines: [], warnings: [], problems: [] };
  const [v, dump] = t.sequence([{ argv: [n.binary, '-V'], timeoutMs: TIMEOUT_MS }, { argv: [n.binary, '-T'], timeoutMs: TIMEOUT_MS }]);
  const vr = await v!;
  if (vr.code !== 0) {
    return { host, lines: [], warnings: [], problems: [`cannot read nginx's paths from the host: \`${n.binary} -V\` exited ${vr.code}: ${vr.stderr.trim().slice(0, 200)}; give nginx.${derive.join(', nginx.')}`] };
  }
  const tr = await dump!.catch(() => undefined);
  const files = tr && tr.code === 0 ? parseConfigDump(tr.stdout) : undefined;
  const given = Object.fromEntries((['pid_file', 'conf', 'error_log'] as const).filter((k) => !derive.includes(k)).map((k) => [k, n[k]]));
  const input: LayoutInput = { nginxV: vr.stderr, files, given };
  const layout = deriveLayout(input);
  const warnings = [...layout.warnings];
  if (!files) warnings.push(`\`${n.binary} -T\` could not dump the config (exit ${tr?.code ?? '?'}: ${(tr?.stderr ?? '').trim().split('\n').pop()?.slice(0, 200) ?? ''})`);
  return { ...withPaths(host, layout, derive), lines: describeLayout(layout), warnings, input };
}

function withPaths(host: ResolvedHost, layout: Layout, derive: DerivedKey[]): Pick<HostLayout, 'host' | 'problems'> {
  const problems = [...layout.problems];
  const nginx = { ...host.nginx };
  for (const k of derive) {
    const d = layout[KEY[k]];
    if (d.path && d.path.startsWith('/')) nginx[k] = d.path;
    else if (!problems.some((p) => p.includes(`nginx.${k}`))) {
      problems.push(k === 'error_log'
        ? `nginx logs errors to no file (${d.from}): hotswap keeps its lock and journal beside the error log and reads new errors from it; give nginx.error_log (a file, e.g. /var/log/nginx/error.log)`
        : `cannot tell nginx's ${k} (${d.from}): give nginx.${k}`);
    }
  }
  return { host: { ...host, nginx }, problems };
}

/**
 * The running master's -p/-c/-g may move a path the first reading took from
 * the compiled defaults and the default config: then the paths in use were
 * wrong, and the host is refused, naming what to give. '' when they agree.
 */
export function checkMasterLayout(l: HostLayout, m: MasterInfo | null): string {
  const derive = l.host.nginx.derive ?? [];
  if (!l.input || !derive.length || !m?.isNginxMaster || !m.args) return '';
  const a = m.args;
  if (a.prefix === undefined && a.conf === undefined && a.globals === undefined) return '';
  const again = deriveLayout({ ...l.input, master: { prefix: a.prefix, conf: a.conf, globals: a.globals, cwd: m.cwd } });
  const moved = derive.filter((k) => again[KEY[k]].path !== l.host.nginx[k]);
  if (!moved.length) return '';
  return `the running master was started with ${[a.prefix !== undefined && `-p ${a.prefix}`, a.conf !== undefined && `-c ${a.conf}`, a.globals !== undefined && `-g '${a.globals}'`].filter(Boolean).join(' ')}, which moves ${moved.map((k) => `${k} to ${again[KEY[k]].path ?? '(none)'} (${again[KEY[k]].from}; read as ${l.host.nginx[k]} from the defaults)`).join(', ')}: give ${moved.map((k) => `nginx.${k}`).join(', ')} in the playbook`;
}
