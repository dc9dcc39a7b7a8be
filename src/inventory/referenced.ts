// Inventories carry many variables for other playbooks, often Jinja that only
// Ansible can evaluate (`release_dir={{ ansible_env.HOME }}/releases`). hotswap
// reads the connection variables itself (connection.ts); of the rest it uses
// only those its playbook refers to, so the others are never evaluated and
// never make a host fail.

const EXPR = /\{\{(.*?)\}\}|\{%(.*?)%\}/gs;
const NAME = /[A-Za-z_][A-Za-z0-9_]*/g;

/** The inventory variables that the strings in `roots` refer to, directly or through each other. */
export function referencedVars(vars: Record<string, unknown>, roots: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const queue: unknown[] = [...roots];
  while (queue.length) {
    for (const name of namesIn(queue.pop())) {
      if (Object.hasOwn(out, name) || !Object.hasOwn(vars, name)) continue;
      out[name] = vars[name];
      queue.push(vars[name]);
    }
  }
  return out;
}

function namesIn(data: unknown): string[] {
  if (typeof data === 'string') {
    return [...data.matchAll(EXPR)].flatMap((m) => (m[1] ?? m[2] ?? '').match(NAME) ?? []);
  }
  if (Array.isArray(data)) return data.flatMap(namesIn);
  if (data instanceof Map) return [...data.values()].flatMap(namesIn);
  if (data && typeof data === 'object') return Object.values(data).flatMap(namesIn);
  return [];
}
