import { join } from 'node:path';
import { expect } from 'chai';
import { loadInventory, universeOf } from '../../src/inventory/inventory.js';
import { PatternError, selectHosts } from '../../src/inventory/pattern.js';
import { FLEET } from './helpers.js';

describe('host patterns over the fleet inventory', () => {
  const fleet = universeOf(loadInventory(join(FLEET, 'hosts.ini')));
  const [bastion, eu1, eu2, eu3, eu4, usA, usB, dbA, dbB, dbC] = fleet.hosts;
  const EU = [eu1, eu2, eu3, eu4];
  const US = [usA, usB];
  const DB = [dbA, dbB, dbC];

  const cases: [string, (string | undefined)[], string[]?][] = [
    ['all', fleet.hosts],
    ['*', fleet.hosts],
    ['edge', [...EU, ...US]],
    ['edge_eu', EU],
    ['ungrouped', [bastion]],
    ['bastion.example.com', [bastion]],
    ['edge-eu-0*', EU],
    ['*.example.com', [bastion, ...EU, ...US]],
    ['db-?', DB],
    ['edge_*', [...EU, ...US]],
    ['edge-us-[ab].example.com', US],
    ['edge-us-[!a].example.com', [usB]],
    ['~edge-(eu|us)-0?[1a]', [eu1, usA]],
    ['~db', DB],
    ['edge_eu:edge_us', [...EU, ...US]],
    ['db,bastion.example.com', [bastion, ...DB]],
    [' edge_eu , canary ', EU],
    ['canary:edge_eu', EU],
    ['edge:&edge_eu', EU],
    ['edge:!canary', [eu1, eu2, eu3, ...US]],
    ['!canary:edge_eu', [eu1, eu2, eu3]],
    ['prod:&edge:!edge_us', EU],
    ['edge_eu,!edge-eu-04.example.com', [eu1, eu2, eu3]],
    ['!db', [bastion, ...EU, ...US]],
    ['&canary', [eu4]],
    ['db-a:db-b', [dbA, dbB]],
    ['~.*', fleet.hosts],
    ['a*', [], ['a*']],
    ['web', [], ['web']],
    ['nope,db', DB, ['nope']],
    ['edge:!web9:&nothing*', [], ['&nothing*', '!web9']],
    ['', []],
  ];
  for (const [pattern, hosts, unmatched = []] of cases) {
    it(`${JSON.stringify(pattern)} -> ${hosts.length} host(s)${unmatched.length ? `, unmatched ${unmatched.join(' ')}` : ''}`, () => {
      expect(selectHosts(pattern, fleet)).to.deep.equal({ hosts, unmatched });
    });
  }

  it('refuses a regex that does not compile', () => {
    expect(() => selectHosts('~web[', fleet)).to.throw(PatternError, 'host pattern "~web[" is not a valid regular expression');
  });
});

describe('host patterns over a plain host list (--limit without inventory)', () => {
  const hosts = ['edge-1', 'edge-2', 'edge-10', 'db-1', '2001:db8::1'];
  const list = { hosts, groups: new Map([['all', new Set(hosts)]]) };
  const cases: [string, string[], string[]?][] = [
    ['edge-1', ['edge-1']],
    ['edge-*', ['edge-1', 'edge-2', 'edge-10']],
    ['edge-1?', ['edge-10']],
    ['~edge-\\d$', ['edge-1', 'edge-2']],
    ['!db-1', ['edge-1', 'edge-2', 'edge-10', '2001:db8::1']],
    ['all:!edge-*', ['db-1', '2001:db8::1']],
    ['2001:db8::1', ['2001:db8::1']],
    ['web-1', [], ['web-1']],
  ];
  for (const [pattern, selected, unmatched = []] of cases) {
    it(`${pattern} -> ${selected.join(' ') || 'nothing'}`, () => expect(selectHosts(pattern, list)).to.deep.equal({ hosts: selected, unmatched }));
  }
});
