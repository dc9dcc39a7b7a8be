// The real-world corpus (../shared/corpus/ssh beside the project): for every
// config, hotswap agrees with `ssh -G` on every field it uses for every host
// name the file names, and refuses the files ssh refuses.
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { differences, hotswapG, sshGAll } from './oracle.js';

const CORPUS = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../../shared/corpus/ssh');

function hostNames(files: string[]): string[] {
  const names = new Set<string>();
  for (const f of files) {
    for (const l of readFileSync(f, 'utf8').split('\n')) {
      const m = /^[ \t]*host[ \t=]+(.*)$/i.exec(l);
      if (!m) continue;
      for (const p of m[1]!.replace(/#.*/, '').split(/[ \t]+/)) {
        const name = p.replace(/"/g, '');
        if (name && !/[*?!\s]/.test(name)) names.add(name);
      }
    }
  }
  return [...names];
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => join(d.parentPath ?? (d as unknown as { path: string }).path, d.name));
}

describe('ssh config corpus against ssh -G', function () {
  this.timeout(300_000);
  it('agrees with ssh -G on every field, host and refusal', () => {
    if (!existsSync(CORPUS)) throw new Error(`the corpus is missing: expected ${CORPUS} (../shared/corpus/ssh beside the project; CI puts /work/shared there)`);
    const empty = mkdtempSync(join(tmpdir(), 'hotswap-corpus-home-'));
    const configs = readdirSync(CORPUS).filter((f) => f.endsWith('.config')).sort();
    expect(configs.length).to.be.greaterThan(20);
    const problems: string[] = [];
    let accepted = 0, refused = 0, hosts = 0;
    for (const c of configs) {
      const file = join(CORPUS, c);
      const homeDir = join(CORPUS, c.replace(/\.config$/, '.home'));
      const home = existsSync(homeDir) ? homeDir : empty;
      const names = hostNames([file, ...filesUnder(join(home, '.ssh'))]);
      const asked = names.length ? names : ['zz-probe'];
      // one mount namespace per config, every host's ssh -G in it
      const theirs = sshGAll(home, asked.map((host) => ({ file, host })));
      if (theirs[0]!.ok) accepted++;
      else refused++;
      asked.forEach((host, i) => {
        hosts++;
        for (const x of differences(theirs[i]!, hotswapG({ file, host, home }))) problems.push(`${c} ${host}: ${x}`);
      });
    }
    console.log(`      corpus: ${configs.length} configs (${accepted} accepted by ssh, ${refused} refused), ${hosts} host names compared in both, ${problems.length} disagreements`);
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });
});
