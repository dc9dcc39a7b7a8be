// Two lanes: `npm run test:unit` (pure logic, parsers, rules: no root, no
// lab) and `npm run test:lab` (real nginx builds, sshd, systemd: root).
// `npm test` runs both. A file is in the lab lane by its name,
// `*.lab.test.ts`; this checks that every test file lands in exactly one
// lane and that no unit test reaches the lab, directly or through a helper.
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const rel = (p: string) => relative(ROOT, p).split('\\').join('/');
const config = (name: string) => JSON.parse(readFileSync(join(ROOT, name), 'utf8')) as { spec: string[]; ignore?: string[] };

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

const ALL = files(join(ROOT, 'test'));
const TESTS = ALL.filter((f) => f.endsWith('.test.ts'));
const isLab = (f: string) => f.endsWith('.lab.test.ts');

// The lab's drivers: they start nginx, sshd or systemd units, or need root (ssh -G in a mount namespace).
const LAB_MODULE = /(^|\/)lab\/(?!systemd-mirror\.|free-port\.)[a-z-]+\.js$|\/(lab-helpers|local-nginx|capture-fixtures)\.js$|\/test\/ssh-config\/oracle\.js$|\/test\/ssh\/helpers\.js$/;

/** The relative modules a file imports, resolved to their .js path. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/from '(\.{1,2}\/[^']+)'/g)].map((m) => resolve(dirname(file), m[1]!));
}

/** Why a file reaches the lab, or undefined: through what it imports, helpers in test/ followed. */
function labReach(file: string, seen = new Set<string>()): string | undefined {
  if (seen.has(file)) return undefined;
  seen.add(file);
  if (/['"`](\.\.\/)+\.lab\/builds/.test(readFileSync(file, 'utf8'))) return `${rel(file)} runs a build from .lab/builds`;
  for (const js of imports(file)) {
    if (LAB_MODULE.test(js.split('\\').join('/'))) return `${rel(file)} imports ${rel(js)}`;
    const ts = js.replace(/\.js$/, '.ts');
    if (ts.startsWith(join(ROOT, 'test')) && ALL.includes(ts)) {
      const why = labReach(ts, seen);
      if (why) return why;
    }
  }
  return undefined;
}

describe('test lanes', () => {
  it('npm test runs both lanes, test:unit and test:lab one each, by the .lab.test.ts name', () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['test']).to.equal('mocha');
    expect(scripts['test:unit']).to.equal('mocha --config .mocharc.unit.json');
    expect(scripts['test:lab']).to.equal('mocha --config .mocharc.lab.json');
    expect(config('.mocharc.json').spec).to.deep.equal(['test/**/*.test.ts']);
    expect(config('.mocharc.json').ignore ?? []).to.deep.equal([]);
    expect(config('.mocharc.unit.json')).to.deep.include({ spec: ['test/**/*.test.ts'], ignore: ['test/**/*.lab.test.ts'] });
    expect(config('.mocharc.lab.json').spec).to.deep.equal(['test/**/*.lab.test.ts']);
    expect(config('.mocharc.lab.json').ignore ?? []).to.deep.equal([]);
  });

  it('every test file is in exactly one lane, and both lanes have tests', () => {
    const unit = TESTS.filter((f) => !isLab(f));
    const lab = TESTS.filter(isLab);
    expect(unit.length + lab.length).to.equal(TESTS.length);
    expect(unit).to.not.be.empty;
    expect(lab).to.not.be.empty;
    // a name mocha would not pick up (foo.lab.ts, foo.spec.ts) is a test in no lane
    const strays = ALL.filter((f) => /\.(spec|lab)\.ts$/.test(f)).map(rel);
    expect(strays, 'name test files *.test.ts (unit) or *.lab.test.ts (lab)').to.deep.equal([]);
  });

  it('no unit test reaches the lab (rename it *.lab.test.ts)', () => {
    const misfiled = TESTS.filter((f) => !isLab(f)).map((f) => labReach(f)).filter((w) => w !== undefined);
    expect(misfiled).to.deep.equal([]);
  });

  it('every lab test reaches the lab (or it belongs in the unit lane)', () => {
    const pure = TESTS.filter(isLab).filter((f) => labReach(f) === undefined).map(rel);
    expect(pure).to.deep.equal([]);
  });
});
