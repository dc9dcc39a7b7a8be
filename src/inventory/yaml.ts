import { isAlias, isMap, isScalar, LineCounter, parseDocument, visit, type Node, type ScalarTag } from 'yaml';
import { InventoryError } from './errors.js';
import { isCircular } from '../playbook/yaml.js';
import { InventoryBuilder } from './model.js';
import { expandHostEntry } from './ranges.js';

// generous for anchors shared by many hosts, still stops a billion-laughs bomb
const MAX_ALIASES = 10_000;
// Ansible's own tags: a vaulted value stays opaque (shaped like `ansible-inventory`
// prints it), `!unsafe` is just a string to us.
const TAGS: ScalarTag[] = [
  { tag: '!vault', resolve: (s) => ({ __ansible_vault: s }) },
  { tag: '!unsafe', resolve: (s) => s },
];
const MAX_ERRORS = 1000;
const SECTIONS = new Set(['hosts', 'vars', 'children']);

// A parsed YAML file and a way to point at any of its nodes by path.
export interface YamlFile {
  /** the document, mappings as Map so key order survives */
  data: unknown;
  /** an error at the node that `path` leads to (its key when `atKey`) */
  error(reason: string, path?: readonly string[], atKey?: boolean): InventoryError;
}

// Parses YAML the way Ansible (PyYAML, YAML 1.1) reads it: converted once (fast,
// aliases and merge keys done by the library), positions looked up only for errors.
export function readYaml(text: string, file: string): YamlFile | InventoryError[] {
  const lc = new LineCounter();
  // uniqueKeys is quadratic per mapping; a Set per mapping is not (5000-host groups exist)
  const doc = parseDocument(text, { lineCounter: lc, version: '1.1', customTags: TAGS, prettyErrors: false, uniqueKeys: false });
  const at = (offset: number | undefined) => {
    const pos = offset === undefined ? undefined : lc.linePos(offset);
    return pos ? ([pos.line, pos.col] as const) : ([] as const);
  };
  const problems = doc.errors.map((e) => new InventoryError(file, e.message.split('\n')[0]!, ...at(e.pos[0])));
  visit(doc, {
    Alias(_, alias) {
      if (isCircular(doc, alias)) problems.push(new InventoryError(file, `alias *${alias.source.slice(0, 64)} is inside the node it names: a value cannot contain itself`, ...at(alias.range?.[0])));
    },
    Map(_, map) {
      const seen = new Set<string>();
      for (const { key } of map.items) {
        if (!isScalar(key) || String(key.value) === '<<') continue;
        const k = String(key.value);
        if (seen.has(k)) problems.push(new InventoryError(file, `duplicate key "${k}"`, ...at(key.range?.[0])));
        seen.add(k);
      }
    },
  });
  if (problems.length) return problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES, mapAsMap: true });
  } catch (e) {
    const message = (e as Error).message;
    const why = /alias/i.test(message) ? `too many YAML alias expansions (over ${MAX_ALIASES}): refusing a possible alias bomb` : message.split('\n')[0]!;
    return [new InventoryError(file, why, 1, 1)];
  }
  const deref = (n: unknown) => (isAlias(n) ? n.resolve(doc) : n);
  const error = (reason: string, path: readonly string[] = [], atKey = false) => {
    let node = deref(doc.contents) as Node | null | undefined;
    let found = node;
    for (const [i, step] of path.entries()) {
      const pair = isMap(node) ? node.items.find((p) => isScalar(p.key) && String(p.key.value) === step) : undefined;
      if (!pair) break;
      if (atKey && i === path.length - 1) return new InventoryError(file, reason, ...at((pair.key as Node).range?.[0]));
      node = deref(pair.value) as Node | null;
      found = (pair.value ?? pair.key) as Node;
    }
    return new InventoryError(file, reason, ...at(found?.range?.[0]));
  };
  return { data, error };
}

// Turns the Maps of readYaml back into plain objects, for vars.
export function plain(v: unknown): unknown {
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), plain(x)]));
  return Array.isArray(v) ? v.map(plain) : v;
}

// Reads Ansible's YAML inventory: groups (`all` and any other top-level key)
// with `hosts:`, `vars:` and `children:`, hosts with vars or null.
export function parseYamlInventory(text: string, file: string): { builder: InventoryBuilder; errors: InventoryError[] } {
  const b = new InventoryBuilder();
  const y = readYaml(text, file);
  if (Array.isArray(y)) return { builder: b, errors: y };
  const errors: InventoryError[] = [];
  let full = false;
  const attempt = (fn: () => void) => {
    // past this, the rest would only add to a list nobody reads (and each error is looked up in the file)
    if (errors.length >= MAX_ERRORS || full) return;
    try {
      fn();
    } catch (e) {
      if (!(e instanceof InventoryError)) throw e;
      errors.push(e);
    }
  };
  const entries = (v: unknown, path: string[], what: string): [string, unknown][] => {
    if (v === null || v === undefined) return [];
    if (typeof v === 'string') return [[v, null]]; // Ansible reads `hosts: web1` as `{ web1: }`
    if (!(v instanceof Map)) throw y.error(`${what} must be a mapping, got ${Array.isArray(v) ? 'a list' : JSON.stringify(v)}`, path);
    return [...v].map(([k, x]) => [String(k), x]);
  };

  const group = (name: string, body: unknown, path: string[], parent?: string): void => {
    const why = parent === undefined ? void b.group(name) : b.addChild(parent, name);
    if (why) throw y.error(why, path, true);
    for (const [section, value] of entries(body, path, `group "${name}"`)) {
      attempt(() => {
        if (!SECTIONS.has(section)) throw y.error(`unknown key "${section}" in group "${name}": expected hosts, vars or children`, [...path, section], true);
        for (const [k, v] of entries(value, [...path, section], `${section} of group "${name}"`)) {
          const at = [...path, section, k];
          attempt(() => {
            if (section === 'vars') b.group(name).vars[k] = plain(v);
            else if (section === 'children') group(k, v, at, name);
            else host(name, k, v, at);
          });
        }
      });
    }
  };

  const host = (groupName: string, entry: string, value: unknown, path: string[]): void => {
    let parsed;
    try {
      parsed = expandHostEntry(entry);
    } catch (e) {
      throw y.error((e as Error).message, path, true);
    }
    const vars = plain(value ?? new Map());
    if (typeof vars !== 'object' || Array.isArray(vars)) throw y.error(`vars of host "${entry}" must be a mapping, got ${JSON.stringify(vars)}`, path);
    const why = b.roomFor(parsed.names.length);
    full = why !== undefined;
    if (why) throw y.error(why, path, true);
    const port = parsed.port ? { ansible_port: parsed.port } : {};
    for (const name of parsed.names) b.addHost(name, groupName, { ...port, ...vars });
  };

  const root = y.data;
  if (root === null || root === undefined) return { builder: b, errors };
  attempt(() => {
    if (root instanceof Map && root.has('plugin')) {
      throw y.error(`is an inventory plugin configuration (plugin: ${root.get('plugin')}), not an inventory: save the output of \`ansible-inventory -i ${file} --list --yaml\` and use that`);
    }
    if (!(root instanceof Map)) throw y.error('expected a mapping of groups, like `all: { hosts: { web1: } }`');
    for (const [k, v] of root) attempt(() => group(String(k), v, [String(k)]));
  });
  return { builder: b, errors };
}
