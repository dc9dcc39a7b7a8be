import { expect } from 'chai';
import { parseIni } from '../../src/inventory/ini.js';

const parse = (text: string) => {
  const { builder, errors } = parseIni(text, 'hosts.ini');
  expect(errors.map((e) => e.message)).to.deep.equal([]);
  builder.finish();
  return builder;
};

describe('INI inventory', () => {
  it('reads ungrouped hosts, groups, children, vars and both comment styles', () => {
    const b = parse(
      [
        '# fleet',
        '; also a comment',
        'solo.example.com',
        '[web]   # trailing comment',
        '  web1   ',
        'web2',
        '[all]',
        'loner',
        '[edge:children] ; children first, group declared later',
        'web',
        'lb',
        '[lb]',
        'lb1',
        '[lb:vars]',
        'x=1',
      ].join('\r\n'),
    );
    expect([...b.hosts.keys()]).to.deep.equal(['solo.example.com', 'web1', 'web2', 'loner', 'lb1']);
    expect([...b.groups.get('ungrouped')!.hosts]).to.deep.equal(['solo.example.com', 'loner']);
    expect([...b.groups.get('edge')!.children]).to.deep.equal(['web', 'lb']);
    expect([...b.groups.get('all')!.children].sort()).to.deep.equal(['edge', 'ungrouped']);
    expect(b.groups.get('lb')!.vars).to.deep.equal({ x: 1 });
  });

  it('merges the vars of a host listed in several groups, later lines winning', () => {
    const b = parse('[a]\nh1 x=1 y=1\n[b]\nh1 y=2\n');
    expect(b.hosts.get('h1')).to.deep.equal({ x: 1, y: 2 });
    expect([...b.groups.get('ungrouped')!.hosts]).to.deep.equal([]);
  });

  const values: [string, string, unknown][] = [
    ['a plain integer', 'n=42', 42],
    ['a negative integer', 'n=-2', -2],
    ['a leading zero (not a Python literal)', 'n=007', '007'],
    ['a float (kept as text)', 'n=1.26', '1.26'],
    ['True', 'n=True', true],
    ['False', 'n=False', false],
    ['None', 'n=None', null],
    ['lower-case true (not a Python literal)', 'n=true', 'true'],
    ['a double-quoted value with spaces', 'n="eu west"', 'eu west'],
    ['a single-quoted value', "n='a b'", 'a b'],
    ['a quoted number (shlex strips the quotes first)', 'n="80"', 80],
    ['an escaped quote', 'n="say \\"hi\\""', 'say "hi"'],
    ['an escaped space', 'n=a\\ b', 'a b'],
    ['an = in the value', 'n=a=b', 'a=b'],
    ['an empty value', 'n=', ''],
    ['a # ending the line, even mid-word', 'n=ab#c d=1', 'ab'],
    ['a # inside quotes', 'n="a#b"', 'a#b'],
  ];
  for (const [what, assignment, value] of values) {
    it(`host line: ${what}`, () => expect(parse(`h ${assignment}`).hosts.get('h')!.n).to.deep.equal(value));
  }

  const groupValues: [string, string, unknown][] = [
    ['a plain integer', 'n = 8080', 8080],
    ['spaces in an unquoted value', 'n = eu west', 'eu west'],
    ['a quoted value', 'n = "eu west"', 'eu west'],
    ['an inline # (kept, as Ansible does in :vars)', 'n = 80 # note', '80 # note'],
    ['True', 'n=True', true],
  ];
  for (const [what, line, value] of groupValues) {
    it(`[group:vars]: ${what}`, () => expect(parse(`[g]\nh\n[g:vars]\n${line}`).groups.get('g')!.vars.n).to.deep.equal(value));
  }

  it('sets ansible_port from host:port, before the line\'s own vars', () => {
    expect(parse('a:2222\nb:2222 ansible_port=22').hosts).to.deep.equal(
      new Map([
        ['a', { ansible_port: 2222 }],
        ['b', { ansible_port: 22 }],
      ]),
    );
  });

  const errors: [string, string, string[]][] = [
    ['a section header with a space', '[web servers]\nh', ['1:1 invalid section header [web servers]: expected [group], [group:vars] or [group:children], with no spaces']],
    ['an unknown section type', 'h\n  [web:var]\nx=1', ['2:8 unknown section type "var" in [web:var]: expected [web], [web:vars] or [web:children]']],
    ['an unclosed quote', '[web]\nweb1 a="open', ['2:8 no closing quotation in host line: web1 a="open']],
    ['a word that is not key=value', 'web1 ansible_port=22 oops', ['1:22 expected key=value after the host name, got: oops']],
    ['a var where a host name should be', 'ansible_user=deploy', ['1:1 expected a host name first, got ansible_user=deploy: group vars belong in a [group:vars] section']],
    ['a bad range', '[web]\n  web[01:x]', ['2:3 bad range [01:x] in host "web[01:x]": begin and end must both be numbers or both be single letters']],
    ['a bad port', 'web1:99999', ['1:1 host "web1:99999": port 99999 is not in 1-65535']],
    ['YAML read as INI', '---\nall:', ['1:1 host "---" is a YAML document marker: name a YAML inventory .yml or .yaml', '2:1 host "all:" ends in \':\', which must be followed by a port']],
    ['a :vars line without =', '[web]\nh\n[web:vars]\nhttp_port 80', ['4:1 expected key=value in [web:vars], got: http_port 80']],
    ['a :children line that is not a name', '[web]\n[all:children]\nweb extra', ['3:1 expected a group name in [all:children], got: web extra']],
    ['an undeclared child', '[edge:children]\nweb\n', ['2:1 [edge:children] lists "web", which is not a group: declare it with [web] or [web:children]']],
    ['vars for an undeclared group', '[web:vars]\nx=1\n', ['1:1 [web:vars] is for group "web", which is never declared: add a [web] or [web:children] section']],
    ['a child group cycle', '[a:children]\nb\n[b:children]\nc\n[c:children]\na\n', ['6:1 making "a" a child of "c" creates a cycle: c > a > b > c']],
    ['a group that is its own child', '[a:children]\na\n', ['2:1 making "a" a child of "a" creates a cycle: a > a']],
    ['all as a child', '[a:children]\nall\n', ['2:1 group "all" cannot be a child of "a"']],
  ];
  for (const [what, text, expected] of errors) {
    it(`reports ${what}, with line and column`, () => {
      const { errors: found } = parseIni(text, 'hosts.ini');
      expect(found.map((e) => `${e.line}:${e.col} ${e.reason}`)).to.deep.equal(expected);
      expect(found.every((e) => e.message.startsWith(`hosts.ini:${e.line}:${e.col}: `))).to.equal(true);
    });
  }

  it('reports every error of the file at once, in line order', () => {
    const { errors } = parseIni('[web:vars]\nx=1\n[web servers]\n[db]\ndb[1:x]\ndb2 oops\n', 'hosts.ini');
    expect(errors.map((e) => e.line)).to.deep.equal([1, 3, 5, 6]);
  });
});
