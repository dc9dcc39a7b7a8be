import { chmodSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { connectionOf, InventoryError, InventoryErrors, loadInventory, type Inventory } from '../../src/inventory/inventory.js';
import { errorsOf, FLEET, tree } from './helpers.js';

const plainOf = (inv: Inventory) => ({
  hosts: inv.hosts,
  groups: Object.fromEntries([...inv.groups].sort(([a], [b]) => a.localeCompare(b)).map(([n, g]) => [n, { hosts: [...g.hosts], children: [...g.children].sort() }])),
  warnings: inv.warnings,
});

describe('loadInventory on the fleet fixture', () => {
  const ini = loadInventory(join(FLEET, 'hosts.ini'));
  const yml = loadInventory(join(FLEET, 'fleet.yml'));
  const host = (name: string) => ini.hosts.find((h) => h.name === name)!;

  it('reads the INI and the YAML inventory of the same fleet to the same result', () => {
    expect(plainOf(yml)).to.deep.equal(plainOf(ini));
  });

  it('lists hosts in inventory order, ranges expanded', () => {
    expect(ini.hosts.map((h) => h.name)).to.deep.equal([
      'bastion.example.com',
      'edge-eu-01.example.com',
      'edge-eu-02.example.com',
      'edge-eu-03.example.com',
      'edge-eu-04.example.com',
      'edge-us-a.example.com',
      'edge-us-b.example.com',
      'db-a',
      'db-b',
      'db-c',
    ]);
  });

  const groups: [string, string[], string[]][] = [
    ['all', ini.hosts.map((h) => h.name), ['prod', 'ungrouped']],
    ['ungrouped', ['bastion.example.com'], []],
    ['prod', ini.hosts.slice(1).map((h) => h.name), ['db', 'edge']],
    ['edge', ini.hosts.slice(1, 7).map((h) => h.name), ['canary', 'edge_eu', 'edge_us']],
    ['canary', ['edge-eu-04.example.com'], []],
    ['db', ['db-a', 'db-b', 'db-c'], []],
  ];
  for (const [name, hosts, children] of groups) {
    it(`group ${name}: every host in it or its descendants, and its direct children`, () => {
      expect([...ini.groups.get(name)!.hosts]).to.deep.equal(hosts);
      expect([...ini.groups.get(name)!.children].sort()).to.deep.equal(children);
    });
  }

  const membership: [string, string[]][] = [
    ['bastion.example.com', ['ungrouped']],
    ['edge-eu-04.example.com', ['canary', 'edge', 'edge_eu', 'prod']],
    ['db-b', ['db', 'prod']],
  ];
  for (const [name, expected] of membership) {
    it(`${name} is in ${expected.join(', ')} (ancestors included, all left out)`, () => expect(host(name).groups).to.deep.equal(expected));
  }

  const precedence: [string, string, unknown, string][] = [
    ['db-a', 'tier', 'all', '[all:vars] applies when nothing else sets it'],
    ['edge-us-a.example.com', 'tier', 'edge', 'a group beats all'],
    ['edge-eu-01.example.com', 'tier', 'edge-eu', 'a child group beats its parent'],
    ['edge-eu-04.example.com', 'max_conns', 10, 'ansible_group_priority beats the name order at the same depth'],
    ['edge-eu-01.example.com', 'max_conns', 100, 'without canary, edge_eu applies'],
    ['edge-eu-01.example.com', 'http_port', 8000, 'group_vars/all beats every group in the inventory file (Ansible\'s order)'],
    ['edge-eu-01.example.com', 'nginx_prefix', '/opt/nginx', 'group_vars/edge beats [edge:vars]'],
    ['edge-eu-01.example.com', 'region', 'eu-central-1', 'files of group_vars/edge_eu/ apply in sorted order'],
    ['edge-eu-01.example.com', 'log_level', 'info', 'keys of earlier files in the directory survive'],
    ['edge-eu-04.example.com', 'canary', true, 'group_vars/<group>.json'],
    ['edge-eu-04.example.com', 'nginx_prefix', '/srv/nginx', 'a host var in the file beats group_vars'],
    ['edge-eu-04.example.com', 'ansible_port', 2222, 'host:port'],
    ['edge-eu-04.example.com', 'note', 'canary host', 'a quoted host var'],
    ['edge-eu-01.example.com', 'ansible_host', '10.0.1.11', 'host_vars/<host>.yml'],
    ['edge-eu-02.example.com', 'ansible_port', 2202, 'host_vars/<host> without extension'],
    ['bastion.example.com', 'ansible_port', 2200, 'host_vars/<host>/ directory'],
    ['bastion.example.com', 'ansible_host', '203.0.113.10', 'an ungrouped host\'s own var'],
    ['edge-us-a.example.com', 'ansible_ssh_user', 'legacy', 'a legacy alias set on the host...'],
    ['edge-us-a.example.com', 'ansible_user', 'deploy', '...leaves the current name set by a lower layer, as Ansible does (connectionOf picks the alias)'],
  ];
  for (const [name, key, value, why] of precedence) {
    it(`${name} ${key}=${JSON.stringify(value)}: ${why}`, () => {
      expect(host(name).vars[key]).to.deep.equal(value);
      expect(yml.hosts.find((h) => h.name === name)!.vars[key]).to.deep.equal(value);
    });
  }

  it('ignores hidden, backup and non-YAML files in a vars directory, and a file shadowed by an earlier extension', () => {
    expect(ini.hosts.map((h) => h.vars.region)).to.not.include.members(['ignored-hidden', 'ignored-backup', 'ignored-not-yaml']);
    expect(ini.hosts.map((h) => h.vars.nginx_prefix)).to.not.include('/ignored: edge.yaml is found first');
  });

  it('skips a vault-encrypted vars file with a warning', () => {
    expect(ini.warnings).to.deep.equal([`${join(FLEET, 'host_vars/bastion.example.com/vault.yml')}: skipped, it is vault-encrypted and hotswap cannot decrypt it`]);
  });

  const connections: [string, object][] = [
    ['bastion.example.com', { address: '203.0.113.10', port: 2200, user: 'deploy' }],
    ['edge-eu-02.example.com', { port: 2202, user: 'deploy', identityFile: '~/.ssh/edge_eu' }],
    ['edge-eu-04.example.com', { address: '10.0.1.14', port: 2222, user: 'deploy' }],
    ['edge-us-a.example.com', { user: 'legacy' }],
    ['db-a', { user: 'deploy', connection: 'local' }],
  ];
  for (const [name, expected] of connections) {
    it(`connectionOf(${name})`, () => expect(connectionOf(host(name))).to.deep.equal(expected));
  }
});

describe('loadInventory: vars precedence between groups', () => {
  const cases: [string, string, unknown][] = [
    ['at the same depth, the later name wins', '[b_group]\nh\n[a_group]\nh\n[a_group:vars]\nx=a\n[b_group:vars]\nx=b\n', 'b'],
    ['ansible_group_priority reorders groups at the same depth', '[b_group]\nh\n[a_group]\nh\n[a_group:vars]\nx=a\nansible_group_priority=5\n[b_group:vars]\nx=b\n', 'a'],
    ['a deeper group wins whatever the priority', '[child]\nh\n[parent:children]\nchild\n[parent:vars]\nx=parent\nansible_group_priority=99\n[child:vars]\nx=child\n', 'child'],
    ['ungrouped is a group like any other', 'h\n[all:vars]\nx=all\n[ungrouped:vars]\nx=ungrouped\n', 'ungrouped'],
  ];
  for (const [what, text, x] of cases) {
    it(what, () => expect(loadInventory(join(tree({ 'hosts.ini': text }), 'hosts.ini')).hosts[0]!.vars.x).to.equal(x));
  }

  it('ansible_group_priority in group_vars/ is ignored, as in Ansible', () => {
    const dir = tree({ 'hosts.ini': '[b_group]\nh\n[a_group]\nh\n[a_group:vars]\nx=a\n[b_group:vars]\nx=b\n', 'group_vars/a_group.yml': 'ansible_group_priority: 5\n' });
    expect(loadInventory(join(dir, 'hosts.ini')).hosts[0]!.vars.x).to.equal('b');
  });
});

describe('loadInventory: connection variables', () => {
  const cases: [string, string, object][] = [
    ['legacy aliases', 'h ansible_ssh_host=10.0.0.2 ansible_ssh_port=2200 ansible_ssh_user=root ansible_ssh_private_key_file=~/.ssh/k', { address: '10.0.0.2', port: 2200, user: 'root', identityFile: '~/.ssh/k' }],
    ['the alias wins over the current name in the same place (ansible -vvv connects to b with k2)', 'h ansible_host=a ansible_ssh_host=b ansible_private_key_file=k1 ansible_ssh_private_key_file=k2', { address: 'b', identityFile: 'k2' }],
    ['an alias on a group beats the current name on the host, as in Ansible', 'h ansible_host=host-level\n[all:vars]\nansible_ssh_host=group-level', { address: 'group-level' }],
    ['an alias on the host beats the current name on a group', 'h ansible_ssh_host=host-level\n[all:vars]\nansible_host=group-level', { address: 'host-level' }],
    ['{{ name }} references, as Ansible templates them', 'h.example.com ansible_host="{{ inventory_hostname_short }}.mgmt" ansible_port="{{ p }}" p=2222', { address: 'h.mgmt', port: 2222 }],
    ['a reference to a reference', 'h ansible_user="{{ a }}" a="{{ b }}" b=ops', { user: 'ops' }],
    ['a port given as text', 'h ansible_port="\'2222\'"', { port: 2222 }],
    ['ansible_connection=ssh', 'h ansible_connection=ssh', { connection: 'ssh' }],
    ['an unsupported ansible_connection is left to SSH', 'h ansible_connection=winrm', {}],
  ];
  for (const [what, text, expected] of cases) {
    it(what, () => expect(connectionOf(loadInventory(join(tree({ 'hosts.ini': text }), 'hosts.ini')).hosts[0]!)).to.deep.equal(expected));
  }

  const errors: [string, Record<string, string>, string[]][] = [
    ['a port that is not a number', { 'hosts.ini': 'h ansible_port=ssh' }, ['host "h": ansible_port "ssh" is not a port (1-65535)']],
    ['a port out of range', { 'hosts.ini': 'h\n[all:vars]\nansible_ssh_port=70000' }, ['host "h": ansible_ssh_port 70000 is not a port (1-65535)']],
    ['an address that would be an ssh option', { 'hosts.ini': 'h ansible_host=-oProxyCommand=x' }, ['host "h": ansible_host "-oProxyCommand=x" must not start with "-" or contain spaces']],
    ['a host name that would be an ssh option', { 'fleet.yml': 'all:\n  hosts:\n    "-oProxyCommand=x":\n' }, ['host "-oProxyCommand=x": host name "-oProxyCommand=x" cannot be used as an SSH address']],
    ['a user with a space', { 'hosts.ini': 'h ansible_user="de ploy"' }, ['host "h": ansible_user "de ploy" must not start with "-" or contain spaces']],
    ['an empty key file', { 'hosts.ini': 'h ansible_ssh_private_key_file=""' }, ['host "h": ansible_ssh_private_key_file "" must be a non-empty string']],
    ['an undefined reference', { 'hosts.ini': 'h ansible_host="{{ nope }}"' }, ['host "h": ansible_host refers to {{ nope }}, which is not defined for this host']],
    ['a Jinja expression', { 'hosts.ini': 'h ansible_host="{{ lookup(\'env\', \'X\') }}"' }, [`host "h": ansible_host "{{ lookup('env', 'X') }}" needs Jinja, which hotswap does not run: only plain {{ name }} references are resolved`]],
    ['a vaulted value', { 'fleet.yml': 'all:\n  hosts:\n    h:\n      ansible_user: !vault |\n        $ANSIBLE_VAULT;1.1;AES256\n        6231\n' }, ['host "h": ansible_user is vault-encrypted and hotswap cannot decrypt it']],
  ];
  for (const [what, files, expected] of errors) {
    it(`refuses ${what}`, () => {
      const dir = tree(files);
      expect(errorsOf(() => loadInventory(join(dir, Object.keys(files)[0]!)))).to.deep.equal(expected);
    });
  }

  it('names the file that set the bad value, and reports every host', () => {
    const dir = tree({ 'hosts.ini': 'a\nb\n', 'host_vars/a.yml': 'ansible_port: x\n', 'group_vars/all.yml': 'ansible_user: "-x"\n' });
    const e = (() => {
      try {
        loadInventory(join(dir, 'hosts.ini'));
      } catch (err) {
        return err as InventoryErrors;
      }
    })()!;
    expect(e.errors.map((x) => [x.file.slice(dir.length + 1), x.reason])).to.deep.equal([
      ['host_vars/a.yml', 'host "a": ansible_port "x" is not a port (1-65535)'],
      ['group_vars/all.yml', 'host "a": ansible_user "-x" must not start with "-" or contain spaces'],
      ['group_vars/all.yml', 'host "b": ansible_user "-x" must not start with "-" or contain spaces'],
    ]);
  });
});

describe('loadInventory: files', () => {
  it('tells INI from YAML by extension, else by the first meaningful line', () => {
    const cases: [string, string][] = [
      ['hosts', '# INI without extension\n[web]\nweb1\n'],
      ['hosts', '# YAML without extension\nall:\n  hosts:\n    web1:\n'],
      ['production', '---\nall:\n  hosts: { web1: }\n'],
      ['hosts.prod', 'web1:22 a=1\n'],
      ['inventory.yaml', 'all: { hosts: { web1: } }\n'],
      ['inventory.json', '{ "all": { "hosts": { "web1": null } } }\n'],
    ];
    for (const [name, text] of cases) expect(loadInventory(join(tree({ [name]: text }), name)).hosts.map((h) => h.name), name).to.deep.equal(['web1']);
  });

  const dir = tree({
    'empty.ini': '# nothing yet\n\n',
    'empty.yml': '',
    'script.py': '#!/usr/bin/env python3\nprint("{}")\n',
    'big.ini': '',
    'bad-vars/hosts.ini': '[web]\nw1\n',
    'bad-vars/group_vars/web.yml': 'a: [1, 2\n',
    'bad-vars/group_vars/all/list.yml': '- a\n',
    'bad-vars/host_vars/w1.json': '{"a": 1, "a": 2}',
  });
  chmodSync(join(dir, 'script.py'), 0o755);
  truncateSync(join(dir, 'big.ini'), 11 * 1024 * 1024);

  const errors: [string, string, string[]][] = [
    ['a missing file', 'missing.ini', ['no such file']],
    ['a directory', 'bad-vars', ['is a directory, expected a file']],
    ['an INI file with no hosts or groups', 'empty.ini', ['is empty: it defines no hosts or groups']],
    ['an empty YAML file', 'empty.yml', ['is empty: it defines no hosts or groups']],
    ['an inventory script', 'script.py', [`is an inventory script; save the output of \`ansible-inventory -i ${join(dir, 'script.py')} --list --yaml\` and use that`]],
    ['a file over 10 MB', 'big.ini', ['is 11.0 MB; the limit is 10 MB']],
  ];
  for (const [what, name, expected] of errors) {
    it(`refuses ${what}`, () => expect(errorsOf(() => loadInventory(join(dir, name)))).to.deep.equal(expected));
  }

  it('refuses a device', () => expect(errorsOf(() => loadInventory('/dev/null'))).to.deep.equal(['is not a regular file']));

  it('reports every broken vars file at once, each with its own file and line', () => {
    const messages = (() => {
      try {
        loadInventory(join(dir, 'bad-vars/hosts.ini'));
      } catch (e) {
        return (e as InventoryError).message.replaceAll(join(dir, 'bad-vars/'), '').split('\n');
      }
    })();
    expect(messages).to.deep.equal([
      'group_vars/all/list.yml:1:1: expected a mapping of variables, got ["a"]',
      'group_vars/web.yml:2:1: Flow sequence in block collection must be sufficiently indented and end with a ]',
      'host_vars/w1.json:1:10: duplicate key "a"',
    ]);
  });

  it('throws an InventoryErrors that is an InventoryError, its message naming file:line:col', () => {
    const file = join(tree({ 'hosts.ini': '[web servers]\n' }), 'hosts.ini');
    expect(() => loadInventory(file))
      .to.throw(InventoryError)
      .with.property('message', `${file}:1:1: invalid section header [web servers]: expected [group], [group:vars] or [group:children], with no spaces`);
  });
});
