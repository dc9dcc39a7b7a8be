import { expect } from 'chai';
import { parseYamlInventory } from '../../src/inventory/yaml.js';

const parse = (text: string) => {
  const { builder, errors } = parseYamlInventory(text, 'fleet.yml');
  expect(errors.map((e) => e.message)).to.deep.equal([]);
  builder.finish();
  return builder;
};

describe('YAML inventory', () => {
  it('reads hosts with null or vars, nested children, group vars, ranges and host:port', () => {
    const b = parse(`
all:
  hosts:
    solo:
  vars: { ansible_user: deploy }
  children:
    edge:
      children:
        eu:
          hosts:
            eu-[1:2]:
            eu-3:2222: { ansible_host: 10.0.0.3 }
      vars:
        tier: edge
`);
    expect([...b.hosts]).to.deep.equal([
      ['solo', {}],
      ['eu-1', {}],
      ['eu-2', {}],
      ['eu-3', { ansible_port: 2222, ansible_host: '10.0.0.3' }],
    ]);
    expect([...b.groups.get('edge')!.children]).to.deep.equal(['eu']);
    expect(b.groups.get('edge')!.vars).to.deep.equal({ tier: 'edge' });
    expect(b.groups.get('all')!.vars).to.deep.equal({ ansible_user: 'deploy' });
    expect([...b.groups.get('ungrouped')!.hosts]).to.deep.equal(['solo']);
  });

  it('accepts top-level groups besides all, and a lone string for hosts or children', () => {
    const b = parse('web:\n  hosts: web1\ndb:\n  children: pg\npg:\n  hosts: { pg1: }\n');
    expect([...b.groups.get('web')!.hosts]).to.deep.equal(['web1']);
    expect([...b.groups.get('db')!.children]).to.deep.equal(['pg']);
    expect([...b.groups.get('all')!.children]).to.deep.equal(['ungrouped', 'web', 'db']);
  });

  const values: [string, string, unknown][] = [
    ['YAML 1.1 booleans, as PyYAML reads them', 'v: yes', true],
    ['numbers', 'v: 8080', 8080],
    ['an anchor merged with <<', 'v: { <<: *base, extra: 1 }', { a: 1, extra: 1 }],
    ['!unsafe as plain text', 'v: !unsafe "{{ not_templated }}"', '{{ not_templated }}'],
    ['!vault as an opaque value', 'v: !vault |\n        $ANSIBLE_VAULT;1.1;AES256\n        6231', { __ansible_vault: '$ANSIBLE_VAULT;1.1;AES256\n6231\n' }],
  ];
  for (const [what, line, value] of values) {
    it(`vars: ${what}`, () => {
      const b = parse(`all:\n  vars:\n    base: &base { a: 1 }\n  hosts:\n    h:\n      ${line}\n`);
      expect(b.hosts.get('h')!.v).to.deep.equal(value);
    });
  }

  const errors: [string, string, string[]][] = [
    ['not YAML', 'all:\n  hosts: [a\n', ['3:1 Flow sequence in block collection must be sufficiently indented and end with a ]']],
    ['a duplicate key', 'all:\n  hosts:\n    a:\n    a:\n', ['4:5 duplicate key "a"']],
    ['a list instead of a mapping of groups', '- all\n', ['1:1 expected a mapping of groups, like `all: { hosts: { web1: } }`']],
    ['hosts as a list', 'all:\n  hosts:\n    - web1\n', ['3:5 hosts of group "all" must be a mapping, got a list']],
    ['a group that is not a mapping', 'all:\n  children:\n    web: 3\n', ['3:10 group "web" must be a mapping, got 3']],
    ['a misspelt key', 'all:\n  children:\n    web:\n      host:\n        web1:\n', ['4:7 unknown key "host" in group "web": expected hosts, vars or children']],
    ['host vars that are not a mapping', 'all:\n  hosts:\n    web1: 10.0.0.1\n', ['3:11 vars of host "web1" must be a mapping, got "10.0.0.1"']],
    ['a bad range', 'all:\n  hosts:\n    web[3:1]:\n', ['3:5 bad range [3:1] in host "web[3:1]": begin is greater than end']],
    ['a child group cycle', 'all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            a:\n', ['7:13 making "a" a child of "b" creates a cycle: b > a > b']],
    ['an inventory plugin config', 'plugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n', ['1:1 is an inventory plugin configuration (plugin: amazon.aws.aws_ec2), not an inventory: save the output of `ansible-inventory -i fleet.yml --list --yaml` and use that']],
    ['several errors at once', 'all:\n  hosts:\n    web[1]:\n  children:\n    db: [x]\n    lb:\n      vars: 3\n', ['3:5 bad range [1] in host "web[1]": expected [begin:end] or [begin:end:step]', '5:9 group "db" must be a mapping, got a list', '7:13 vars of group "lb" must be a mapping, got 3']],
  ];
  for (const [what, text, expected] of errors) {
    it(`reports ${what}, with line and column`, () => {
      const { errors: found } = parseYamlInventory(text, 'fleet.yml');
      expect(found.map((e) => `${e.line}:${e.col} ${e.reason}`)).to.deep.equal(expected);
    });
  }

  it('refuses a YAML alias bomb quickly', () => {
    const levels = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++) levels.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    const started = Date.now();
    const { errors } = parseYamlInventory(`all:\n  vars:\n${levels.map((l) => `    ${l}`).join('\n')}\n`, 'fleet.yml');
    expect(errors.map((e) => e.reason)).to.deep.equal(['too many YAML alias expansions (over 10000): refusing a possible alias bomb']);
    expect(Date.now() - started).to.be.below(2000);
  });
});
