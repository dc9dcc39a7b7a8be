// The fleet: the playbook's host list (or a pattern over its inventory),
// each host with its vars merged, its nginx paths defaulted from the prefix
// and its steps interpolated and checked as that host will see them.
import { resolve } from 'node:path';
import type { Problem } from './problem.js';
import type { Located, Path } from './yaml.js';
import type { HostEntry, Playbook } from './schema.js';
import type { NginxPaths, ResolvedHost } from './resolved.js';
import { interpolate, resolveVars, type Vars } from './interpolate.js';
import { durationProblem, hostPathProblem, sha256Problem, urlProblem } from './host-rules.js';
import { loadInventory, connectionOf, InventoryError, InventoryErrors, type Inventory, type HostConnection } from '../inventory/inventory.js';
import { selectHosts } from '../inventory/pattern.js';

interface Candidate {
  entry: HostEntry & { identityFile?: string };
  /** where the host is named: its item in `hosts`, or `hosts` itself for a pattern */
  path: Path;
  inventoryVars: Vars;
  groups: string[];
}

export function resolveHosts(playbook: Playbook, src: Located, globals: Record<string, string>, problems: Problem[]) {
  const { candidates, groups } = candidatesOf(playbook, src, problems);
  const seen = new Map<string, Path>();
  const hosts: ResolvedHost[] = [];
  for (const c of candidates) {
    if (seen.has(c.entry.name)) {
      problems.push(src.problem(c.path, `host "${c.entry.name}" is listed twice`));
      continue;
    }
    seen.set(c.entry.name, c.path);
    const host = resolveHost(playbook, c, src, globals, problems);
    if (host) hosts.push(host);
  }
  return { hosts, groups };
}

function candidatesOf(playbook: Playbook, src: Located, problems: Problem[]): { candidates: Candidate[]; groups: Map<string, Set<string>> } {
  let inventory: Inventory | undefined;
  if (playbook.inventory) {
    try {
      inventory = loadInventory(resolve(src.file, '..', playbook.inventory));
    } catch (err) {
      if (!(err instanceof InventoryError)) throw err;
      // problems inside the inventory are reported where they are, in its own file
      for (const e of err instanceof InventoryErrors ? err.errors : [err]) {
        problems.push(e.line ? { file: e.file, line: e.line, col: e.col ?? 1, message: e.reason } : src.problem(['inventory'], `inventory ${e.file}: ${e.reason}`));
      }
      return { candidates: [], groups: new Map() };
    }
  }
  const groups = new Map<string, Set<string>>();
  for (const [name, g] of inventory?.groups ?? []) groups.set(name, g.hosts);
  const byName = new Map((inventory?.hosts ?? []).map((h) => [h.name, h]));
  const fromInventory = (name: string) => byName.get(name);
  if (typeof playbook.hosts === 'string') {
    if (!inventory) {
      problems.push(src.problem(['hosts'], `"hosts" is a pattern (${JSON.stringify(playbook.hosts)}), which needs an "inventory" to select from; or list the hosts`));
      return { candidates: [], groups };
    }
    const { hosts, unmatched } = selectHosts(playbook.hosts, { hosts: inventory.hosts.map((h) => h.name), groups });
    if (unmatched.length) problems.push(src.problem(['hosts'], `the pattern matches no host for: ${unmatched.join(', ')}`));
    if (!hosts.length && !unmatched.length) problems.push(src.problem(['hosts'], 'the pattern selects no host'));
    return {
      groups,
      candidates: hosts.map((name) => {
        const ih = fromInventory(name)!;
        return { entry: { name, ...entryOf(connectionOf(ih)) }, path: ['hosts'], inventoryVars: ih.vars, groups: ih.groups };
      }),
    };
  }
  return {
    groups,
    candidates: playbook.hosts.map((h, i) => {
      const entry: HostEntry = typeof h === 'string' ? { name: h } : h;
      const ih = fromInventory(entry.name);
      return { entry: { ...(ih ? entryOf(connectionOf(ih)) : {}), ...stripUndefined(entry) }, path: ['hosts', i], inventoryVars: ih?.vars ?? {}, groups: ih?.groups ?? [] };
    }),
  };
}

function entryOf(c: HostConnection): Partial<Candidate['entry']> {
  return stripUndefined({ address: c.address, port: c.port, user: c.user, identityFile: c.identityFile, connection: c.connection });
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function resolveHost(playbook: Playbook, c: Candidate, src: Located, globals: Record<string, string>, problems: Problem[]): ResolvedHost | undefined {
  const before = problems.length;
  const label = (msg: string) => (c.path.length === 1 ? `${c.entry.name}: ${msg}` : msg);
  const onIssue = (i: { path: Path; message: string }) => problems.push(src.problem(i.path, label(i.message)));
  const scalarVars = Object.fromEntries(Object.entries(c.inventoryVars).filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v)));
  const base = resolveVars({ ...globals, ...scalarVars, ...(c.entry.vars ?? {}), host: c.entry.name }, (name, message) =>
    problems.push(src.problem(c.entry.vars && name in c.entry.vars ? [...c.path, 'vars', name] : c.path, label(message))),
  );
  const n = playbook.nginx;
  const rawPrefix = interpolate(n.prefix, base, onIssue, ['nginx', 'prefix']);
  const prefix = rawPrefix.replace(/\/+$/, '') || '/';
  const pathOf = (key: keyof NginxPaths, fallback: string) => (n[key] === undefined ? fallback : interpolate(n[key]!, { ...base, prefix }, onIssue, ['nginx', key]));
  const nginx: NginxPaths = {
    prefix,
    binary: pathOf('binary', `${prefix}/sbin/nginx`),
    pid_file: pathOf('pid_file', `${prefix}/logs/nginx.pid`),
    conf: pathOf('conf', `${prefix}/conf/nginx.conf`),
    error_log: pathOf('error_log', `${prefix}/logs/error.log`),
  };
  // paths derived from a bad prefix are not reported again
  for (const key of Object.keys(nginx) as (keyof NginxPaths)[]) {
    if (key !== 'prefix' && n[key] === undefined) continue;
    const msg = hostPathProblem(key === 'prefix' ? rawPrefix : nginx[key]);
    if (msg) problems.push(src.problem(['nginx', key], label(`nginx.${key}: ${msg}`)));
  }
  const vars = { ...base, ...nginx };
  const steps = interpolate(playbook.steps, vars, onIssue, ['steps']);
  steps.forEach((step, i) => checkStep(step, ['steps', i], (path, msg) => msg && problems.push(src.problem(path, label(msg)))));
  if (problems.length > before) return undefined;
  const ssh = playbook.ssh ?? {};
  return {
    name: c.entry.name,
    connection: c.entry.connection ?? 'ssh',
    ssh: stripUndefined({
      address: c.entry.address ?? c.entry.name,
      port: c.entry.port ?? ssh.port,
      user: c.entry.user ?? ssh.user,
      identityFile: c.entry.identityFile ?? ssh.identity_file,
    }),
    nginx,
    steps,
    groups: c.groups,
  };
}

function checkStep(step: Playbook['steps'][number], path: Path, push: (path: Path, msg: string | undefined) => void) {
  if (step.timeout) push([...path, 'timeout'], durationProblem(step.timeout));
  if (step.backup?.dest) push([...path, 'backup', 'dest'], hostPathProblem(step.backup.dest));
  const cb = step['copy-binary'];
  if (cb?.sha256) push([...path, 'copy-binary', 'sha256'], sha256Problem(cb.sha256));
  const w = step['wait-for-workers'];
  if (w?.timeout) push([...path, 'wait-for-workers', 'timeout'], durationProblem(w.timeout));
  const v = step.verify;
  if (v?.interval) push([...path, 'verify', 'interval'], durationProblem(v.interval));
  v?.http?.forEach((h, i) => push([...path, 'verify', 'http', i, 'url'], urlProblem(h.url)));
  v?.http?.forEach((h, i) =>
    Object.entries(h.header ?? {}).forEach(([name, re]) => {
      try {
        new RegExp(re);
      } catch {
        push([...path, 'verify', 'http', i, 'header', name], `${JSON.stringify(re)} is not a valid regular expression`);
      }
    }),
  );
}
