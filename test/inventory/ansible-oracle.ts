import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadInventory, universeOf } from '../../src/inventory/inventory.js';
import { selectHosts } from '../../src/inventory/pattern.js';

// Ansible itself as the oracle: one python3 process loads every inventory with
// ansible-core's own InventoryManager and VariableManager (what
// `ansible-inventory --list` and `ansible PATTERN --list-hosts` run), so a
// whole corpus costs one interpreter start instead of one per command.
const SCRIPT = String.raw`
import json, sys, os
os.environ['ANSIBLE_INVENTORY_UNPARSED_FAILED'] = '1'
from ansible.parsing.dataloader import DataLoader
from ansible.inventory.manager import InventoryManager
from ansible.vars.manager import VariableManager
out = []
for req in json.load(sys.stdin):
    try:
        loader = DataLoader()
        inv = InventoryManager(loader=loader, sources=[req['file']])
        vm = VariableManager(loader=loader, inventory=inv)
        hosts = {}
        for h in inv.get_hosts('all'):
            v = vm.get_vars(host=h, include_hostvars=False)
            pick = lambda a, b: v[b] if v.get(b) is not None else v.get(a)
            found = {'address': pick('ansible_host', 'ansible_ssh_host'), 'port': pick('ansible_port', 'ansible_ssh_port'), 'user': pick('ansible_user', 'ansible_ssh_user')}
            hosts[h.name] = {k: str(x) for k, x in found.items() if x is not None}
        groups = {n: sorted(x.name for x in g.get_hosts()) for n, g in inv.groups.items()}
        patterns = {p: sorted(x.name for x in inv.get_hosts(p)) for p in req['patterns']}
        out.append({'hosts': hosts, 'groups': groups, 'patterns': patterns})
    except Exception as e:
        out.append({'error': str(e).splitlines()[0] if str(e) else type(e).__name__})
print(json.dumps(out))
`;

// pattern results are compared as sets: the order of hosts from child groups differs (see the report)
export type View = { hosts: Record<string, Record<string, string>>; groups: Record<string, string[]>; patterns: Record<string, string[]> } | { error: string };

// the interpreter ansible-inventory runs under (a python3 earlier in PATH may lack the ansible package)
function ansiblePython(): string {
  try {
    const bin = execFileSync('sh', ['-c', 'command -v ansible-inventory'], { encoding: 'utf8' }).trim();
    return /^#!\s*(\S+)/.exec(readFileSync(bin, 'utf8').split('\n')[0]!)?.[1] ?? 'python3';
  } catch {
    throw new Error('Ansible is missing: install the Debian package ansible-core (apt-get install -y ansible-core)');
  }
}

export function ansibleViews(requests: { file: string; patterns: string[] }[]): Promise<View[]> {
  const python = ansiblePython();
  return new Promise((resolve, reject) => {
    const child = execFile(python, ['-c', SCRIPT], { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) {
        const missing = /No module named 'ansible'/.test(stderr) || (err as NodeJS.ErrnoException).code === 'ENOENT';
        return reject(new Error(missing ? 'Ansible is missing: install the Debian package ansible-core (apt-get install -y ansible-core)' : `ansible oracle failed: ${stderr || err.message}`));
      }
      resolve(JSON.parse(stdout) as View[]);
    });
    child.stdin!.end(JSON.stringify(requests));
  });
}

// each connection field as Ansible's ssh plugin picks it: the legacy alias when set, else the current name (raw, before templating)
const FIELDS = { address: ['ansible_host', 'ansible_ssh_host'], port: ['ansible_port', 'ansible_ssh_port'], user: ['ansible_user', 'ansible_ssh_user'] };

/** hotswap's view of the same inventory, in the oracle's shape. */
export function hotswapView(file: string, patterns: string[]): View {
  let inv;
  try {
    inv = loadInventory(file);
  } catch (e) {
    return { error: (e as Error).message.split('\n')[0]! };
  }
  const hosts: Record<string, Record<string, string>> = {};
  for (const h of inv.hosts) {
    const value = (names: string[]) => names.map((n) => h.vars[n]).reverse().find((v) => v !== undefined && v !== null);
    hosts[h.name] = Object.fromEntries(Object.entries(FIELDS).flatMap(([f, names]) => (value(names) === undefined ? [] : [[f, pyStr(value(names))]])));
  }
  const groups = Object.fromEntries([...inv.groups].map(([n, g]) => [n, [...g.hosts].sort()]));
  const universe = universeOf(inv);
  const selected = Object.fromEntries(patterns.map((p) => {
    try {
      return [p, [...selectHosts(p, universe).hosts].sort()];
    } catch (e) {
      return [p, [`error: ${(e as Error).message}`]];
    }
  }));
  return { hosts, groups, patterns: selected };
}

// Python's str() of a YAML/INI value, so `2222` and True compare as Ansible prints them
function pyStr(v: unknown): string {
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return String(v);
}
