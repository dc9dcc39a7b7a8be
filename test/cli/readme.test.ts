// The README and docs/ say what the code does: the playbook key table is the
// schema's, the exit codes are src/errors.ts's, every playbook shown
// validates, and the README stays a short first page.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { referenceFile, withReference } from '../../scripts/playbook-reference.js';
import { Exit } from '../../src/errors.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { formatProblem } from '../../src/playbook/problem.js';
import { PlaybookError } from '../../src/errors.js';

const root = new URL('../../', import.meta.url);
const read = (rel: string) => readFileSync(new URL(rel, root), 'utf8');
const DOCS = ['README.md', ...readdirSync(new URL('docs/', root)).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** The fenced code blocks of a markdown text, with their info string. */
function codeBlocks(md: string): { lang: string; body: string }[] {
  return [...md.matchAll(/^```([^\n`]*)\n([\s\S]*?)^```\s*$/gm)].map((m) => ({ lang: m[1]!.trim(), body: m[2]! }));
}

/** The `| code | meaning |` rows of the exit code table. */
function exitTable(md: string): string[] {
  return md.split('\n').filter((l) => /^\| \d+ \| /.test(l));
}

describe('README and docs/', () => {
  it('docs/playbook.md documents every playbook key as the schema has it', () => {
    const doc = readFileSync(referenceFile(), 'utf8');
    expect(referenceFile()).to.match(/docs[\\/]playbook\.md$/);
    expect(doc, 'run: npm run build && node dist/scripts/playbook-reference.js --write').to.equal(withReference(doc));
  });

  it('the README is a first page under 20 KB that starts with the demo and the tests', () => {
    const readme = read('README.md');
    expect(Buffer.byteLength(readme), 'README.md must stay under 20 KB: move detail to docs/').to.be.below(20 * 1024);
    const first = codeBlocks(readme)[0]!.body.split('\n').filter(Boolean).map((l) => l.replace(/\s+#.*$/, ''));
    expect(first).to.deep.equal(['npm ci && npm run demo', 'npm ci && npm test']);
    expect(readme).not.to.include('playbook-keys:start'); // the reference lives in docs/playbook.md
  });

  it('the README and docs/operations.md list the exit codes of src/errors.ts, the same way', () => {
    const readme = exitTable(read('README.md'));
    expect(readme.map((l) => Number(l.split('|')[1]))).to.deep.equal(Object.values(Exit));
    expect(exitTable(read('docs/operations.md'))).to.deep.equal(readme);
  });

  it('every playbook shown in the README and docs/ validates', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hotswap-docs-'));
    let seen = 0;
    try {
      for (const doc of DOCS) {
        for (const [i, block] of codeBlocks(read(doc)).entries()) {
          if (block.lang !== 'yaml' || !/^version: 1$/m.test(block.body)) continue;
          seen++;
          const file = join(dir, `${doc.replace(/\W/g, '-')}-${i}.yaml`);
          writeFileSync(file, block.body);
          try {
            loadPlaybook(file);
          } catch (err) {
            const why = err instanceof PlaybookError ? err.problems.map(formatProblem).join('\n') : (err as Error).message;
            expect.fail(`the playbook in ${doc} (code block ${i + 1}) does not validate:\n${why}`);
          }
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(seen, 'the README quickstart and docs/playbook.md each show a playbook').to.be.at.least(2);
  });
});
