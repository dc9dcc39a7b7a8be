import { InventoryError } from './errors.js';

// What the SSH transport needs, in the playbook's own terms (HostEntry fields).
export interface HostConnection {
  address?: string;
  port?: number;
  user?: string;
  identityFile?: string;
  /** only when the inventory says `ansible_connection: local` (or ssh) */
  connection?: 'ssh' | 'local';
}

interface Problem {
  key: string;
  reason: string;
}

// Each field with its Ansible variables: the current name, then its legacy alias.
// Ansible's ssh plugin reads them in this order and the last one defined wins:
// the alias beats the current name wherever each is set (checked with
// `ansible -vvv` against ansible-core 2.14).
export const CONNECTION_VARS = {
  address: ['ansible_host', 'ansible_ssh_host'],
  port: ['ansible_port', 'ansible_ssh_port'],
  user: ['ansible_user', 'ansible_ssh_user'],
  identityFile: ['ansible_private_key_file', 'ansible_ssh_private_key_file'],
} as const;
const SSH_PLUGINS = new Set(['ssh', 'paramiko', 'paramiko_ssh', 'smart']);

// How to reach an inventory host, from Ansible's connection variables, so an
// inventory that works with `ansible` works with hotswap. Hosts from
// loadInventory were checked already; this throws only for hand-built ones.
export function connectionOf(host: { name: string; vars: Record<string, unknown> }): HostConnection {
  const { connection, problems } = readConnection(host);
  if (problems[0]) throw new InventoryError('inventory', `host "${host.name}": ${problems[0].reason}`);
  return connection;
}

// The same reading, with every problem named by the variable that caused it.
export function readConnection(host: { name: string; vars: Record<string, unknown> }): { connection: HostConnection; problems: Problem[] } {
  const connection: HostConnection = {};
  const problems: Problem[] = [];
  for (const [field, names] of Object.entries(CONNECTION_VARS) as [keyof typeof CONNECTION_VARS, readonly string[]][]) {
    const key = [...names].reverse().find((n) => host.vars[n] !== undefined && host.vars[n] !== null);
    if (!key) continue;
    try {
      const value = evaluate(host.vars[key], host, 0);
      const why = field === 'port' ? setPort(connection, value) : setText(connection, field, value);
      if (why) problems.push({ key, reason: `${key} ${JSON.stringify(value)} ${why}` });
    } catch (e) {
      problems.push({ key, reason: `${key} ${(e as Error).message}` });
    }
  }
  const plugin = String(host.vars.ansible_connection ?? '').replace(/^ansible\.builtin\./, '');
  if (plugin === 'local') connection.connection = 'local';
  else if (SSH_PLUGINS.has(plugin)) connection.connection = 'ssh';
  if (connection.address === undefined && /^-|\s/.test(host.name)) {
    problems.push({ key: 'inventory_hostname', reason: `host name ${JSON.stringify(host.name)} cannot be used as an SSH address` });
  }
  return { connection, problems };
}

function setPort(c: HostConnection, v: unknown): string | undefined {
  const n = typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) return 'is not a port (1-65535)';
  c.port = n;
  return undefined;
}

function setText(c: HostConnection, field: 'address' | 'user' | 'identityFile', v: unknown): string | undefined {
  const s = typeof v === 'number' ? String(v) : v;
  if (typeof s !== 'string' || !s) return 'must be a non-empty string';
  if (field !== 'identityFile' && /^-|\s/.test(s)) return 'must not start with "-" or contain spaces';
  if (/[\0\n\r]/.test(s)) return 'must not contain a newline or NUL';
  c[field] = s;
  return undefined;
}

// Ansible templates variables with Jinja; we only resolve plain `{{ name }}`
// references (common for ansible_host) and refuse anything else by name.
function evaluate(v: unknown, host: { name: string; vars: Record<string, unknown> }, depth: number): unknown {
  if (v && typeof v === 'object' && '__ansible_vault' in v) throw new Error('is vault-encrypted and hotswap cannot decrypt it');
  if (typeof v !== 'string' || !/\{\{|\{%/.test(v)) return v;
  if (depth > 10) throw new Error('has {{ }} references nested too deep');
  const out = v.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_, name: string) => {
    const raw = name === 'inventory_hostname' ? host.name : name === 'inventory_hostname_short' ? host.name.split('.')[0] : host.vars[name];
    if (raw === undefined) throw new Error(`refers to {{ ${name} }}, which is not defined for this host`);
    const value = evaluate(raw, host, depth + 1);
    if (typeof value === 'object' && value !== null) throw new Error(`refers to {{ ${name} }}, which is not a plain value`);
    return String(value);
  });
  if (/\{\{|\{%/.test(out)) throw new Error(`${JSON.stringify(v)} needs Jinja, which hotswap does not run: only plain {{ name }} references are resolved`);
  return out;
}
