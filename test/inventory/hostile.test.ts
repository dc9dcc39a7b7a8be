// Inventories no operator would write on purpose, but a typo, a generator gone
// wrong or a hostile file can: each is one located problem, in well under a second.
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadInventory } from '../../src/inventory/inventory.js';
import { parseYamlInventory } from '../../src/inventory/yaml.js';
import { errorsOf, tree } from './helpers.js';

function quickly<T>(fn: () => T, maxMs = 2000): T {
  const t0 = Date.now();
  const out = fn();
  expect(Date.now() - t0, 'ms').to.be.below(maxMs);
  return out;
}

describe('inventories on hostile input', () => {
  it('ranges that add up past 20 000 hosts are refused at the line that passes the limit', () => {
    const dir = tree({ 'hosts.ini': '[web]\nweb[0:15000]\n[db]\ndb[0:15000]\ncache1\n' });
    expect(quickly(() => errorsOf(() => loadInventory(join(dir, 'hosts.ini')))))
      .to.deep.equal(['4:1 the inventory holds more than 20000 hosts (ranges included); hotswap takes at most that many']);
    const yml = tree({ 'hosts.yml': 'all:\n  hosts:\n    a[0:15000]:\n    b[0:15000]:\n    c[0:15000]:\n' });
    expect(quickly(() => errorsOf(() => loadInventory(join(yml, 'hosts.yml')))))
      .to.deep.equal(['4:5 the inventory holds more than 20000 hosts (ranges included); hotswap takes at most that many']);
  });

  it('a chain of 5000 nested groups: a problem, not a stack overflow', () => {
    const text = Array.from({ length: 5000 }, (_, i) => `[g${i}:children]\ng${i + 1}`).join('\n') + '\n[g5000]\nh1\n';
    const dir = tree({ 'hosts.ini': text });
    expect(quickly(() => errorsOf(() => loadInventory(join(dir, 'hosts.ini')))))
      .to.deep.equal(['group "g50" is nested more than 50 levels below "all"; hotswap reads at most that many']);
  });

  it('a cycle through 3000 groups is still found, iteratively', () => {
    const text = Array.from({ length: 3000 }, (_, i) => `[g${i}:children]\ng${(i + 1) % 3000}`).join('\n') + '\n';
    const errors = quickly(() => errorsOf(() => loadInventory(join(tree({ 'hosts.ini': text }), 'hosts.ini'))));
    expect(errors).to.have.length(1);
    expect(errors[0]).to.match(/^6000:1 making "g0" a child of "g2999" creates a cycle: g2999 > g0 > g1 > .* > g2999$/);
  });

  it('a 9 MB line: one problem, not a regex stack overflow reported seconds later', () => {
    const dir = tree({ 'hosts.ini': '[web]\nh' + 'x'.repeat(9_000_000) + '\n' });
    expect(quickly(() => errorsOf(() => loadInventory(join(dir, 'hosts.ini')))))
      .to.deep.equal(['2:1 line is 9000001 characters long; an inventory line may hold at most 65536']);
  });

  it('100 000 bad lines: reading stops after 1000 problems, and says so', () => {
    const dir = tree({ 'hosts.ini': Array.from({ length: 100_000 }, (_, i) => `h${i} bad`).join('\n') });
    const errors = quickly(() => errorsOf(() => loadInventory(join(dir, 'hosts.ini'))));
    expect(errors).to.have.length(1001);
    expect(errors.at(-1)).to.equal('1001:1 stopped reading here: more than 1000 problems');
  });

  it('a YAML value that contains itself (&a [*a]) is refused, in the inventory and in group_vars', () => {
    const { errors } = quickly(() => parseYamlInventory('all:\n  vars:\n    x: &a [1, *a]\n  hosts: {h1: }\n', 'fleet.yml'));
    expect(errors.map((e) => e.message)).to.deep.equal(['fleet.yml:3:15: alias *a is inside the node it names: a value cannot contain itself']);
    const dir = tree({ 'hosts.ini': 'h1\n', 'group_vars/all.yml': 'v: &v {self: *v}\n' });
    expect(quickly(() => errorsOf(() => loadInventory(join(dir, 'hosts.ini'))))).to.deep.equal(['1:14 alias *v is inside the node it names: a value cannot contain itself']);
  });

  it('group_vars/all/ with two symlinks back to itself: read once, not 2^40 times', () => {
    const dir = tree({ 'hosts.ini': 'h1\n', 'group_vars/all/a.yml': 'x: 1\n' });
    symlinkSync('.', join(dir, 'group_vars', 'all', 'l1'));
    symlinkSync('.', join(dir, 'group_vars', 'all', 'l2'));
    const inv = quickly(() => loadInventory(join(dir, 'hosts.ini')));
    expect(inv.hosts[0]!.vars).to.deep.equal({ x: 1 });
  });
});
