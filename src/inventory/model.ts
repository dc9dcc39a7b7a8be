// What one inventory file says, before group_vars/, host_vars/ and precedence.
// Both file formats fill it through the same few calls, so they cannot disagree
// on what a group, a child or a cycle is.
export interface ParsedGroup {
  /** hosts listed directly in the group */
  hosts: Set<string>;
  children: Set<string>;
  vars: Record<string, unknown>;
}

// Far beyond any fleet one playbook upgrades; past it, checking every host
// (vars, connection, paths) takes seconds, and ranges make such files easy to write.
export const MAX_INVENTORY_HOSTS = 20_000;

// Built up while a file is read; `finish()` applies Ansible's implicit rules.
export class InventoryBuilder {
  /** host -> its own vars from the file, in inventory order */
  readonly hosts = new Map<string, Record<string, unknown>>();
  readonly groups = new Map<string, ParsedGroup>();

  constructor() {
    this.group('all');
    this.group('ungrouped');
  }

  group(name: string): ParsedGroup {
    let g = this.groups.get(name);
    if (!g) this.groups.set(name, (g = { hosts: new Set(), children: new Set(), vars: {} }));
    return g;
  }

  /** Why `count` more hosts cannot be added (the inventory would pass MAX_INVENTORY_HOSTS), or undefined. */
  roomFor(count: number): string | undefined {
    if (this.hosts.size + count <= MAX_INVENTORY_HOSTS) return undefined;
    return `the inventory holds more than ${MAX_INVENTORY_HOSTS} hosts (ranges included); hotswap takes at most that many`;
  }

  addHost(name: string, group: string, vars: Record<string, unknown>): void {
    this.hosts.set(name, Object.assign(this.hosts.get(name) ?? {}, vars));
    this.group(group).hosts.add(name);
  }

  /** Adds the edge, or returns why it would make a cycle. */
  addChild(parent: string, child: string): string | undefined {
    if (child === 'all') return `group "all" cannot be a child of "${parent}"`;
    const path = this.pathDown(child, parent);
    if (path) return `making "${child}" a child of "${parent}" creates a cycle: ${[parent, ...path].join(' > ')}`;
    this.group(child);
    this.group(parent).children.add(child);
    return undefined;
  }

  /** Top-level groups become children of `all`; hosts in no other group are `ungrouped`. */
  finish(): void {
    const nested = new Set<string>();
    const grouped = new Set<string>();
    for (const [name, g] of this.groups) {
      g.children.forEach((c) => nested.add(c));
      if (name !== 'all' && name !== 'ungrouped') g.hosts.forEach((h) => grouped.add(h));
    }
    for (const name of this.groups.keys()) if (name !== 'all' && !nested.has(name)) this.group('all').children.add(name);
    this.group('ungrouped').hosts = new Set([...this.hosts.keys()].filter((h) => !grouped.has(h)));
  }

  /** child -> its parents */
  parents(): Map<string, string[]> {
    const parents = new Map<string, string[]>();
    for (const [p, g] of this.groups) for (const c of g.children) parents.set(c, [...(parents.get(c) ?? []), p]);
    return parents;
  }

  // The same path a recursive depth-first walk finds, without recursion: a
  // chain of thousands of groups must not exhaust the stack.
  private pathDown(from: string, to: string): string[] | undefined {
    const cameFrom = new Map<string, string | null>();
    const stack: [string, string | null][] = [[from, null]];
    while (stack.length) {
      const [g, parent] = stack.pop()!;
      if (cameFrom.has(g)) continue;
      cameFrom.set(g, parent);
      if (g === to) {
        const path: string[] = [];
        for (let at: string | null = g; at !== null; at = cameFrom.get(at)!) path.unshift(at);
        return path;
      }
      const children = [...(this.groups.get(g)?.children ?? [])];
      for (let i = children.length - 1; i >= 0; i--) if (!cameFrom.has(children[i]!)) stack.push([children[i]!, g]);
    }
    return undefined;
  }
}
