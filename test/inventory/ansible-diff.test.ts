import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadInventory, connectionOf } from '../../src/inventory/inventory.js';
import { referencedVars } from '../../src/inventory/referenced.js';
import { ansibleViews, hotswapView } from './ansible-oracle.js';
import { errorsOf, tree } from './helpers.js';

const run = promisify(execFile);

// Inventories written to cover one rule each; Ansible decides what is right.
const CASES: Record<string, { files: Record<string, string>; main: string; patterns: string[] }> = {
  'INI saved as hosts.yml (Ansible falls back to the ini plugin)': {
    main: 'hosts.yml',
    files: { 'hosts.yml': '[web]\nweb1 ansible_host=10.0.0.1 ansible_port=2222\nweb2:2200 ansible_user=deploy\n\n[db]\ndb1\n\n[prod:children]\nweb\ndb\n' },
    patterns: ['web', 'prod:!db', 'web*', 'all'],
  },
  'Jinja in a variable hotswap does not use': {
    main: 'hosts',
    files: { hosts: '[app]\napp1 ansible_host=10.0.0.5 release_dir={{ansible_env.HOME}}/releases\napp2 ansible_host="{{ inventory_hostname }}.example"\n' },
    patterns: ['app', 'app*:!app1'],
  },
  'group_vars and host_vars precedence, legacy aliases': {
    main: 'inv.ini',
    files: {
      'inv.ini': '[all:vars]\nansible_user=root\n[web]\nw[1:3] ansible_ssh_port=2201\n[web:vars]\nansible_port=2200\n',
      'group_vars/web.yml': 'ansible_user: www\n',
      'host_vars/w2.yml': 'ansible_port: 2299\nansible_ssh_user: legacy\n',
    },
    patterns: ['w*', '~w[12]', 'web:&w3'],
  },
  'YAML with children, ranges and ports': {
    main: 'hosts.yml',
    files: {
      'hosts.yml': 'all:\n  children:\n    lb:\n      hosts:\n        lb-[a:b].example:\n          ansible_port: 2022\n    edge:\n      children:\n        lb:\n      hosts:\n        "[fd00::1]:2200":\n        edge1:\n          ansible_host: 192.0.2.1\n',
    },
    patterns: ['edge', 'lb', 'edge:!lb', 'lb-a*'],
  },
  'subscripts: positions in what a term selects': {
    main: 'hosts',
    files: { hosts: '[web]\nweb-c\nweb-a\nweb-b\nweb-d\n[db]\ndb1\n' },
    patterns: ['web[0]', 'web[-1]', 'web[1:2]', 'web[2:]', 'web[0],db[0]', 'web:!web[0]', 'web-[ab]', 'web[1-2]', 'web-[!c]'],
  },
};

describe('inventory: differential against Ansible', function () {
  this.timeout(120_000);

  it('agrees with Ansible on hosts, groups, addresses, ports, users and patterns for each rule', async () => {
    const reqs = Object.values(CASES).map((c) => ({ file: join(tree(c.files), c.main), patterns: c.patterns }));
    const views = await ansibleViews(reqs);
    Object.keys(CASES).forEach((name, i) => {
      expect(views[i], `Ansible on "${name}"`).to.not.have.property('error');
      expect(hotswapView(reqs[i]!.file, reqs[i]!.patterns), name).to.deep.equal(views[i]);
    });
  });

  it('the oracle matches the ansible-inventory and ansible commands themselves', async () => {
    const c = CASES['INI saved as hosts.yml (Ansible falls back to the ini plugin)']!;
    const file = join(tree(c.files), c.main);
    const [view] = await ansibleViews([{ file, patterns: ['prod:!db'] }]);
    const list = JSON.parse((await run('ansible-inventory', ['-i', file, '--list'])).stdout) as Record<string, { hosts?: string[] }>;
    expect(list.web!.hosts).to.deep.equal((view as { groups: Record<string, string[]> }).groups.web);
    const listed = (await run('ansible', ['prod:!db', '--list-hosts', '-i', file])).stdout.split('\n').slice(1).map((l) => l.trim()).filter(Boolean);
    expect(listed).to.deep.equal((view as { patterns: Record<string, string[]> }).patterns['prod:!db']);
  });

  it('reads an INI inventory saved as .yml, and reports the YAML error when neither format fits', () => {
    const dir = tree({ 'a.yml': '[web]\nweb1 ansible_port=2200\n', 'b.yml': 'all:\n  hosts: [\n' });
    const inv = loadInventory(join(dir, 'a.yml'));
    expect(connectionOf(inv.hosts[0]!)).to.deep.equal({ port: 2200 });
    const errs = errorsOf(() => loadInventory(join(dir, 'b.yml')));
    expect(errs.join('\n')).to.match(/^\d+:\d+ /);
  });

  it('names the file and the variable when a connection variable needs Jinja', () => {
    const dir = tree({ hosts: '[web]\nweb1\n', 'host_vars/web1.yml': 'ansible_host: "{{ lookup(\'env\', \'IP\') }}"\nrelease_dir: "{{ ansible_env.HOME }}"\n' });
    try {
      loadInventory(join(dir, 'hosts'));
      expect.fail('expected an error');
    } catch (e) {
      expect((e as Error).message).to.contain(join(dir, 'host_vars/web1.yml')).and.contain('ansible_host').and.not.contain('release_dir');
    }
  });

  it('keeps only the inventory variables a playbook refers to, through each other', () => {
    const vars = { a: '{{ b }}/x', b: 'B', c: '{{ ansible_env.HOME }}', d: 1 };
    expect(referencedVars(vars, [{ steps: [{ run: 'echo {{ a }} {{ d|int }}' }] }])).to.deep.equal({ a: '{{ b }}/x', d: 1, b: 'B' });
    expect(referencedVars(vars, ['no templates'])).to.deep.equal({});
  });
});
