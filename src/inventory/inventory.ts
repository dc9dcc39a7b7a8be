import { statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { readConnection } from './connection.js';
import { InventoryError, InventoryErrors } from './errors.js';
import { parseIni } from './ini.js';
import type { InventoryBuilder } from './model.js';
import { readSource } from './source.js';
import { varsDir, type VarsLayer } from './varsfiles.js';
import { parseYamlInventory } from './yaml.js';

export { connectionOf, type HostConnection } from './connection.js';
export { InventoryError, InventoryErrors } from './errors.js';

// The fleet as an inventory describes it: plain data, ready for patterns and plans.
export interface InventoryHost {
  name: string;
  /** every group the host is in, directly or through children, except `all`; sorted */
  groups: string[];
  /** merged by precedence (see loadInventory) */
  vars: Record<string, unknown>;
}

export interface InventoryGroup {
  /** every host in the group or any of its descendants, in inventory order */
  hosts: Set<string>;
  /** direct child groups */
  children: Set<string>;
}

export interface Inventory {
  file: string;
  /** in inventory order (first appearance) */
  hosts: InventoryHost[];
  /** includes `all` and `ungrouped` */
  groups: Map<string, InventoryGroup>;
  /** things skipped on purpose, e.g. a vault-encrypted vars file */
  warnings: string[];
}

// An operator's existing Ansible inventory (INI or YAML) with group_vars/ and
// host_vars/ beside it, resolved into hosts with their final vars, so hotswap
// sees the fleet as `ansible` would. Throws InventoryErrors listing
// every problem. Vars precedence, lowest first (Ansible's documented order for
// inventory sources; each layer replaces whole top-level keys):
//   1. the file's `all` vars ([all:vars], all.vars)
//   2. the file's vars of the host's other groups, parents before children
//      (by depth), then by ansible_group_priority, then by name
//   3. group_vars/all
//   4. group_vars/<group>, in the same group order as 2
//   5. the file's host vars (host line or hosts: entry; `host:port` sets ansible_port)
//   6. host_vars/<host>
// A connection variable and its legacy alias (ansible_host/ansible_ssh_host...)
// are kept apart, as Ansible keeps them; connection.ts picks between them.
// Playbook-adjacent group_vars/host_vars are not read.
export function loadInventory(file: string): Inventory {
  const text = readSource(file);
  if (text instanceof InventoryError) throw new InventoryErrors([text]);
  if (text.startsWith('#!') && statSync(file).mode & 0o111) {
    throw new InventoryErrors([new InventoryError(file, `is an inventory script; save the output of \`ansible-inventory -i ${file} --list --yaml\` and use that`)]);
  }
  const { builder: b, errors } = parse(file, text);
  if (!errors.length && b.hosts.size === 0 && b.groups.size === 2) errors.push(new InventoryError(file, 'is empty: it defines no hosts or groups'));
  if (errors.length) throw new InventoryErrors(errors);
  b.finish();

  const warnings: string[] = [];
  const parents = b.parents();
  const tooDeep = nestingProblem(b, parents);
  if (tooDeep) throw new InventoryErrors([new InventoryError(file, tooDeep)]);
  const order = groupOrder(b, parents, file, errors);
  const groupVars = varsDir(join(dirname(file), 'group_vars'), errors, warnings);
  const hostVars = varsDir(join(dirname(file), 'host_vars'), errors, warnings);
  const groupFiles = new Map([...b.groups.keys()].map((g) => [g, groupVars(g)]));
  const ancestors = ancestorsOf(parents);
  const direct = new Map<string, string[]>();
  for (const [g, { hosts }] of b.groups) for (const h of hosts) direct.set(h, [...(direct.get(h) ?? []), g]);

  const hosts = [...b.hosts].map(([name, own]): InventoryHost => {
    const memberOf = new Set((direct.get(name) ?? []).flatMap((g) => [...ancestors(g)]));
    memberOf.delete('all');
    const sorted = [...memberOf].sort(order);
    const layers: VarsLayer[] = [
      { file, vars: b.groups.get('all')!.vars },
      ...sorted.map((g) => ({ file, vars: b.groups.get(g)!.vars })),
      ...groupFiles.get('all')!,
      ...sorted.flatMap((g) => groupFiles.get(g)!),
      { file, vars: own },
      ...hostVars(name),
    ];
    const { vars, origin } = merge(layers);
    const host = { name, groups: [...memberOf].sort(), vars };
    for (const p of readConnection(host).problems) errors.push(new InventoryError(origin[p.key] ?? file, `host "${name}": ${p.reason}`));
    return host;
  });
  if (errors.length) throw new InventoryErrors(errors);

  const groups = new Map([...b.groups].map(([name, g]) => [name, { hosts: new Set<string>(), children: g.children }]));
  for (const h of hosts) for (const g of ['all', ...h.groups]) groups.get(g)!.hosts.add(h.name);
  return { file, hosts, groups, warnings };
}

/** Later layers replace whole keys; `origin` says which file set each one. */
function merge(layers: VarsLayer[]): { vars: Record<string, unknown>; origin: Record<string, string> } {
  const vars: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer.vars)) {
      [vars[k], origin[k]] = [v, layer.file];
    }
  }
  return { vars, origin };
}

// The pattern universe of an inventory, for selectHosts().
export function universeOf(inv: Inventory): { hosts: string[]; groups: Map<string, Set<string>> } {
  return { hosts: inv.hosts.map((h) => h.name), groups: new Map([...inv.groups].map(([n, g]) => [n, g.hosts])) };
}

// Ansible tries its inventory plugins in turn: when the yaml plugin cannot read
// a file (an INI inventory saved as hosts.yml), the ini plugin gets it. So do we;
// when neither can, the YAML errors are the ones that explain a .yml file.
function parse(file: string, text: string): ReturnType<typeof parseIni> {
  if (!isYaml(file, text)) return parseIni(text, file);
  const yaml = parseYamlInventory(text, file);
  if (!yaml.errors.length) return yaml;
  const ini = parseIni(text, file);
  if (!ini.errors.length && ini.builder.hosts.size + ini.builder.groups.size > 2) return ini;
  return yaml;
}

// Ansible's yaml plugin takes .yml/.yaml/.json (and files without extension
// that parse); we sniff the first meaningful line for anything but those and .ini.
function isYaml(file: string, text: string): boolean {
  const ext = extname(file).toLowerCase();
  if (['.yml', '.yaml', '.json'].includes(ext)) return true;
  if (ext === '.ini') return false;
  const first = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l && l[0] !== '#' && l[0] !== ';');
  return first !== undefined && (/^(---|%|\{)/.test(first) || /^[^\s=#;[\]]+:(\s|$)/.test(first));
}

// Real inventories nest groups a few levels deep; the group order and vars
// layers below walk every level, recursively, for every host.
const MAX_GROUP_DEPTH = 50;

/** Why the groups are nested too deep to be used, or undefined. Iterative, in topological order. */
function nestingProblem(b: InventoryBuilder, parents: Map<string, string[]>): string | undefined {
  const waiting = new Map([...b.groups.keys()].map((g) => [g, parents.get(g)?.length ?? 0]));
  const depth = new Map<string, number>();
  const ready = [...waiting].filter(([, n]) => n === 0).map(([g]) => g);
  for (const g of ready) depth.set(g, 0);
  while (ready.length) {
    const g = ready.pop()!;
    const d = depth.get(g)!;
    if (d > MAX_GROUP_DEPTH) return `group "${g}" is nested more than ${MAX_GROUP_DEPTH} levels below "all"; hotswap reads at most that many`;
    for (const c of b.groups.get(g)!.children) {
      depth.set(c, Math.max(depth.get(c) ?? 0, d + 1));
      const left = waiting.get(c)! - 1;
      waiting.set(c, left);
      if (left === 0) ready.push(c);
    }
  }
  return undefined;
}

/** Ansible's sort_groups: (depth, ansible_group_priority, name). */
function groupOrder(b: InventoryBuilder, parents: Map<string, string[]>, file: string, errors: InventoryError[]): (x: string, y: string) => number {
  const depths = new Map<string, number>([['all', 0]]);
  const depth = (g: string): number => {
    if (!depths.has(g)) depths.set(g, 1 + Math.max(...(parents.get(g) ?? ['all']).map(depth)));
    return depths.get(g)!;
  };
  const priority = new Map<string, number>();
  for (const [name, g] of b.groups) {
    const p = g.vars.ansible_group_priority ?? 1;
    if (typeof p === 'number' && Number.isInteger(p)) priority.set(name, p);
    else errors.push(new InventoryError(file, `group "${name}": ansible_group_priority must be an integer, got ${JSON.stringify(p)}`));
  }
  const key = (g: string) => [depth(g), priority.get(g) ?? 1] as const;
  return (x, y) => key(x)[0] - key(y)[0] || key(x)[1] - key(y)[1] || (x < y ? -1 : x > y ? 1 : 0);
}

/** A group and every group above it. */
function ancestorsOf(parents: Map<string, string[]>): (group: string) => Set<string> {
  const memo = new Map<string, Set<string>>();
  const up = (g: string): Set<string> => {
    if (!memo.has(g)) memo.set(g, new Set([g, ...(parents.get(g) ?? []).flatMap((p) => [...up(p)])]));
    return memo.get(g)!;
  };
  return up;
}
