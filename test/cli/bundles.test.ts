import { expect } from 'chai';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileBundle, loadBundle } from '../../src/cli/bundles.js';
import { runCli } from './run-cli.js';

const BUNDLES = fileURLToPath(new URL('../../dist/src/cli/bundle/', import.meta.url));

describe('the shipped CLI: bundles with code caches', () => {
  it('has the five bundles, each with a code cache that this Node accepts', () => {
    const names = readdirSync(BUNDLES).filter((f) => f.endsWith('.cjs')).sort();
    expect(names).to.deep.equal(['fleet.cjs', 'listr.cjs', 'main.cjs', 'ssh2.cjs', 'validate.cjs']);
    for (const name of names) {
      const script = compileBundle(join(BUNDLES, name), readFileSync(join(BUNDLES, `${name}.cache`)));
      expect(script.cachedDataRejected, name).to.equal(false);
    }
  });

  it('carries ssh2 in a bundle of its own, which loads only its native binding from node_modules', () => {
    const fleet = readFileSync(join(BUNDLES, 'fleet.cjs'), 'utf8');
    expect(fleet).to.include('require("./ssh2.cjs").client');
    expect(fleet).not.to.match(/require\("ssh2/);
    expect(fleet).not.to.include('node_modules/ssh2/lib/client.js');
    const ssh2 = readFileSync(join(BUNDLES, 'ssh2.cjs'), 'utf8');
    expect(ssh2).to.include('require("ssh2/lib/protocol/crypto/build/Release/sshcrypto.node")');
    expect(ssh2).not.to.match(/require\("ssh2(\/lib\/(client|agent)\.js|\/lib\/protocol\/keyParser\.js)?"\)/);
  });

  it('runs a bundle whose cache V8 rejects (another Node, a damaged file) by compiling it as usual', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hotswap-bundles-'));
    try {
      copyFileSync(join(BUNDLES, 'listr.cjs'), join(dir, 'listr.cjs'));
      writeFileSync(join(dir, 'listr.cjs.cache'), Buffer.alloc(4096, 7));
      expect(compileBundle(join(dir, 'listr.cjs'), readFileSync(join(dir, 'listr.cjs.cache'))).cachedDataRejected).to.equal(true);
      const mod = loadBundle(dir, 'listr') as { ListrReporter?: unknown };
      expect(mod.ListrReporter).to.be.a('function');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers --version, and a usage error from the validate and the fleet bundle, from the bundles', async () => {
    const v = await runCli(['--version']);
    expect(v.code).to.equal(0);
    expect(v.stdout).to.match(/^hotswap \d+\.\d+\.\d+\n$/);
    // errors thrown in the validate and fleet bundles are told apart in main's: one class each, in main.cjs
    const bad = await runCli(['validate', '/nonexistent/fleet.yaml']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.equal('/nonexistent/fleet.yaml:1:1: no such file\n1 problem found\n');
    const usage = await runCli(['apply', '/nonexistent/fleet.yaml', '--concurrency', '0']);
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.equal('hotswap: --concurrency takes a whole number of hosts, at least 1 (got "0")\n');
    for (const name of ['validate.cjs', 'fleet.cjs', 'listr.cjs', 'ssh2.cjs']) {
      expect(readFileSync(join(BUNDLES, name), 'utf8'), name).not.to.match(/\b(CliError|PlaybookError) = class\b/);
    }
  });
});
