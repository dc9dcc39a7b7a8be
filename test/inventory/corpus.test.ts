import { expect } from 'chai';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ansibleViews, hotswapView } from './ansible-oracle.js';

// Real inventories other people wrote (../shared/corpus/inventory, beside the
// project; never copied into it): hotswap must agree with Ansible on each.
const CORPUS = resolve(new URL('../..', import.meta.url).pathname, '../shared/corpus/inventory');
const PATTERNS = ['all', 'ungrouped', '*', 'all:!ungrouped'];

describe('inventory: the shared corpus against Ansible', function () {
  this.timeout(120_000);

  it('agrees with Ansible on every inventory: hosts per group, address/port/user, patterns', async () => {
    if (!existsSync(CORPUS)) throw new Error(`the corpus is missing: expected ${CORPUS} (a checkout of the shared corpus beside the project)`);
    const files = readdirSync(CORPUS).filter((d) => statSync(join(CORPUS, d)).isDirectory()).sort().map((d) => {
      const main = readdirSync(join(CORPUS, d)).filter((f) => statSync(join(CORPUS, d, f)).isFile());
      if (main.length !== 1) throw new Error(`${d}: expected one inventory file, found ${main.join(', ')}`);
      return join(CORPUS, d, main[0]!);
    });
    const groupsOf = new Map<string, string[]>();
    const reqs = files.map((file) => ({ file, patterns: PATTERNS }));
    const first = await ansibleViews(reqs);
    // every group name and a group intersection as patterns too, in a second pass
    first.forEach((v, i) => groupsOf.set(files[i]!, 'groups' in v ? Object.keys(v.groups) : []));
    const withGroups = files.map((file) => ({ file, patterns: [...PATTERNS, ...groupsOf.get(file)!, ...groupsOf.get(file)!.slice(2, 4).map((g) => `all:&${g}:!ungrouped`)] }));
    const views = await ansibleViews(withGroups);
    const disagree: string[] = [];
    views.forEach((ansible, i) => {
      const ours = hotswapView(files[i]!, withGroups[i]!.patterns);
      try {
        expect(ours).to.deep.equal(ansible);
      } catch {
        disagree.push(`${files[i]}:\n  ansible ${JSON.stringify(ansible).slice(0, 400)}\n  hotswap ${JSON.stringify(ours).slice(0, 400)}`);
      }
    });
    expect(disagree, `${files.length - disagree.length}/${files.length} inventories agree`).to.deep.equal([]);
  });
});
