// The fleet: the playbook's host list (or a pattern over its inventory),
// each host with its vars merged, its nginx paths defaulted from the prefix
// and its steps interpolated and checked as that host will see them.
import { resolve } from 'node:path';
import { quote, type Problem } from './problem.js';
import type { Located, Path } from './yaml.js';
import type { HostEntry, Playbook } from './schema.js';
import { derivedPlaceholder, type DerivedKey, type NginxPaths, type ResolvedHost } from './resolved.js';
import { interpolate, resolveVars, scope, type Budget, type Scope, type Vars } from './interpolate.js';
import type { Broken } from './broken.js';
import { durationProblem, hostPathProblem, sha256Problem, urlProblem } from './host-rules.js';
import { loadInventory, connectionOf, InventoryError, InventoryErrors, type Inventory, type HostConnection } from '../inventory/inventory.js';
import { PatternError, selectHosts, termsText } from '../inventory/pattern.js';
import { referencedVars } from '../inventory/referenced.js';

interface Candidate {
  entry: HostEntry & { identityFile?: string };
  /** where the host is named: its item in `hosts`, or `hosts` itself for a pattern */
  path: Path;
  inventoryVars: Vars;
  groups: string[];
}

// Past this many problems the rest of the fleet is not checked: the list would
// only repeat itself, and a hostile file could make it endless.
const MAX_PROBLEMS = 1000;

export interface Checking {
  /** parts the schema found broken: skipped here, already reported */
  broken: Broken;
  budget: Budget;
}

export function resolveHosts(playbook: Playbook, src: Located, globals: Record<string, string>, problems: Problem[], checking: Checking) {
  const { candidates, groups } = candidatesOf(playbook, src, problems, checking.broken);
  const seen = new Map<string, Path>();
  const hosts: ResolvedHost[] = [];
  // `steps` missing or not a list (reported by the schema): the hosts are still checked
  const allSteps = Array.isArray(playbook.steps) ? playbook.steps : [];
  const shared: Shared = {
    globals: scope(globals),
    steps: allSteps.flatMap((s, i) => (checking.broken(['steps', i]) ? [] : [[i, s] as const])),
    expressions: expressionsIn(playbook),
    stepNames: allSteps.map((s) => [...new Set(expressionsIn(s).flatMap((e) => e.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []))]),
    stepCache: new Map(),
  };
  for (const c of candidates) {
    if (checking.budget.left < 0 || problems.length > MAX_PROBLEMS) {
      problems.push(src.problem(['hosts'], `the remaining hosts were not checked: ${checking.budget.left < 0 ? 'too much to expand' : 'too many problems already'}`));
      break;
    }
    if (seen.has(c.entry.name)) {
      problems.push(src.problem(c.path, `host "${c.entry.name}" is listed twice`));
      continue;
    }
    seen.set(c.entry.name, c.path);
    const host = resolveHost(playbook, c, src, shared, problems, checking.budget);
    if (host) hosts.push(host);
  }
  return { hosts, groups };
}

function candidatesOf(playbook: Playbook, src: Located, problems: Problem[], broken: Broken): { candidates: Candidate[]; groups: Map<string, Set<string>> } {
  let inventory: Inventory | undefined;
  if (playbook.inventory) {
    try {
      inventory = loadInventory(resolve(src.file, '..', playbook.inventory));
    } catch (err) {
      if (!(err instanceof InventoryError)) throw err;
      // problems inside the inventory are reported where they are, in its own file
      for (const e of err instanceof InventoryErrors ? err.errors : [err]) {
        problems.push(e.line ? { file: e.file, line: e.line, col: e.col ?? 1, message: e.reason } : src.problem(['inventory'], `${e.file}: ${e.reason}`));
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
      problems.push(src.problem(['hosts'], `a pattern (${quote(playbook.hosts)}) needs an "inventory" to select from; or list the hosts`));
      return { candidates: [], groups };
    }
    let selection;
    try {
      selection = selectHosts(playbook.hosts, { hosts: inventory.hosts.map((h) => h.name), groups });
    } catch (err) {
      if (!(err instanceof PatternError)) throw err;
      problems.push(src.problem(['hosts'], err.message));
      return { candidates: [], groups };
    }
    const { hosts, unmatched } = selection;
    if (unmatched.length) problems.push(src.problem(['hosts'], `the pattern matches no host for: ${termsText(unmatched)}`));
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
    candidates: playbook.hosts.flatMap((h, i) => {
      if (broken(['hosts', i])) return [];
      const entry: HostEntry = typeof h === 'string' ? { name: h } : h;
      const ih = fromInventory(entry.name);
      return [{ entry: { ...(ih ? entryOf(connectionOf(ih)) : {}), ...stripUndefined(entry) }, path: ['hosts', i], inventoryVars: ih?.vars ?? {}, groups: ih?.groups ?? [] }];
    }),
  };
}

function entryOf(c: HostConnection): Partial<Candidate['entry']> {
  return stripUndefined({ address: c.address, port: c.port, user: c.user, identityFile: c.identityFile, connection: c.connection });
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

interface Shared {
  globals: Scope;
  /** the steps the schema found well-formed */
  steps: (readonly [number, Playbook['steps'][number]])[];
  /** every distinct {{ }} of the playbook: what a host's inventory vars are looked up for (once, not per host) */
  expressions: string[];
  /** per step, the names in its {{ }} */
  stepNames: string[][];
  stepCache: Map<string, { step: Playbook['steps'][number]; bad?: Problem[] }>;
}

function expressionsIn(data: unknown): string[] {
  const found = new Set<string>();
  const stack = [data];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') for (const m of v.matchAll(/\{\{.*?\}\}|\{%.*?%\}/gs)) found.add(m[0]);
    else if (v && typeof v === 'object') stack.push(...Object.values(v));
  }
  return [...found];
}

function resolveHost(playbook: Playbook, c: Candidate, src: Located, shared: Shared, problems: Problem[], budget: Budget): ResolvedHost | undefined {
  const before = problems.length;
  // hosts selected by a pattern share one position: the message names the host
  const label = (msg: string) => (c.path.length === 1 ? `${msg} (host ${quote(c.entry.name)})` : msg);
  // a value whose {{ }} failed is not checked again: one problem per mistake
  const failed = new Set<string>();
  const onIssue = (i: { path: Path; message: string }) => {
    failed.add(i.path.join('/'));
    problems.push(src.problem(i.path, label(i.message)));
  };
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(c.entry.name)) problems.push(src.problem(c.path, `host name ${quote(c.entry.name)} contains white space or a control character`));
  // only the inventory vars the playbook refers to: others may hold Jinja for Ansible's own use
  const scalarVars = Object.fromEntries(Object.entries(referencedVars(c.inventoryVars, [shared.expressions, c.entry.vars])).filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v)));
  const own = { ...scalarVars, ...(c.entry.vars ?? {}), host: c.entry.name };
  const hostVars = resolveVars(own, (name, message) => problems.push(src.problem(c.entry.vars && Object.hasOwn(c.entry.vars, name) ? [...c.path, 'vars', name] : c.path, label(message))), budget, shared.globals);
  const base = scope(hostVars, shared.globals);
  const n = playbook.nginx;
  // without a prefix (a packaged nginx), paths not given are read from the host at plan/apply time
  const rawPrefix = n.prefix === undefined ? undefined : interpolate(n.prefix, base, onIssue, ['nginx', 'prefix'], budget);
  const prefix = rawPrefix === undefined ? '' : rawPrefix.replace(/\/+$/, '') || '/';
  if (rawPrefix === undefined && n.binary === undefined) problems.push(src.problem(['nginx'], label('give nginx.prefix (a hand-built nginx, e.g. /usr/local/nginx) or nginx.binary (a packaged one, e.g. /usr/sbin/nginx: its other paths are read from the host)')));
  const derive: DerivedKey[] = [];
  const pathOf = (key: Exclude<keyof NginxPaths, 'derive'>, under: string) => {
    if (n[key] !== undefined) return interpolate(n[key]!, scope(rawPrefix === undefined ? {} : { prefix }, base), onIssue, ['nginx', key], budget);
    if (rawPrefix !== undefined) return `${prefix}${under}`;
    if (key === 'binary') return '';
    derive.push(key as DerivedKey);
    return derivedPlaceholder(key as DerivedKey);
  };
  const nginx: NginxPaths = {
    prefix,
    binary: pathOf('binary', '/sbin/nginx'),
    pid_file: pathOf('pid_file', '/logs/nginx.pid'),
    conf: pathOf('conf', '/conf/nginx.conf'),
    error_log: pathOf('error_log', '/logs/error.log'),
    ...(derive.length ? { derive } : {}),
  };
  // paths derived from a bad prefix are not reported again
  for (const key of ['prefix', 'binary', 'pid_file', 'conf', 'error_log'] as const) {
    if (n[key] === undefined) continue;
    if (failed.has(`nginx/${key}`)) continue;
    const msg = hostPathProblem(key === 'prefix' ? rawPrefix! : nginx[key]);
    if (msg) problems.push(src.problem(['nginx', key], label(msg)));
  }
  // a path read from the host at run time is no variable for the steps (it is not known here)
  const { derive: _derived, ...known } = nginx;
  for (const k of [...derive, ...(rawPrefix === undefined ? ['prefix' as const] : [])]) delete known[k];
  const vars = scope(known, base);
  // only the well-formed steps are checked; with any broken, the host is not used anyway
  const steps = shared.steps.map(([i, step]) => {
    // a step is the same for every host whose values of the names it uses are the same:
    // worked out once, not once per host (thousands of hosts times the steps)
    const names = shared.stepNames[i]!;
    const key = `${i}\0${names.map((n) => vars.get(n) ?? '\u0001').join('\0')}`;
    const known = shared.stepCache.get(key);
    if (known && (!known.bad || c.path.length > 1)) {
      if (known.bad) problems.push(...known.bad); // same position and message: shown once
      return known.step;
    }
    const mark = problems.length;
    const s = interpolate(step, vars, onIssue, ['steps', i], budget);
    if (budget.left < 0) return s; // cut short: its checks would only complain of the cut
    checkStep(s, ['steps', i], (path, msg) => msg && !failed.has(path.join('/')) && problems.push(src.problem(path, label(msg))));
    shared.stepCache.set(key, { step: s, bad: problems.length > mark ? problems.slice(mark) : undefined });
    return s;
  });
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
    ...(n.package ? { package: n.package } : {}),
    steps,
    groups: c.groups,
  };
}

function checkStep(step: Playbook['steps'][number], path: Path, push: (path: Path, msg: string | undefined) => void) {
  if (step.timeout) push([...path, 'timeout'], durationProblem(step.timeout));
  if (step.backup?.dest) push([...path, 'backup', 'dest'], hostPathProblem(step.backup.dest));
  const cb = step['copy-binary'];
  if (cb?.sha256) push([...path, 'copy-binary', 'sha256'], sha256Problem(cb.sha256));
  if (step.backup?.dir) push([...path, 'backup', 'dir'], hostPathProblem(step.backup.dir));
  cb?.modules?.forEach((m, i) => {
    if (typeof m === 'string') return;
    if (m.dest) push([...path, 'copy-binary', 'modules', i, 'dest'], hostPathProblem(m.dest));
    if (m.sha256) push([...path, 'copy-binary', 'modules', i, 'sha256'], sha256Problem(m.sha256));
  });
  const w = step['wait-for-workers'];
  if (w?.timeout) push([...path, 'wait-for-workers', 'timeout'], durationProblem(w.timeout));
  if (w?.settle) push([...path, 'wait-for-workers', 'settle'], durationProblem(w.settle));
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
