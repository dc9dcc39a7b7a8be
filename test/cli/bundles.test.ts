import { expect } from 'chai';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileBundle, loadBundle, readBundle } from '../../src/cli/bundles.js';
import { runCli } from './run-cli.js';

const BUNDLES = fileURLToPath(new URL('../../dist/src/cli/bundle/', import.meta.url));

describe('the shipped CLI: bundles with code caches', () => {
  it('has the five bundles, each with a code cache that this Node accepts', () => {
    const names = readdirSync(BUNDLES).filter((f) => f.endsWith('.cjs')).sort();
    expect(names).to.deep.equal(['fleet.cjs', 'listr.cjs', 'main.cjs', 'ssh2.cjs', 'validate.cjs']);
    for (const name of names) {
      const { source, cache } = readBundle(join(BUNDLES, name));
      expect(cache, name).to.be.instanceOf(Buffer);
      expect(compileBundle(join(BUNDLES, name), source, cache).cachedDataRejected, name).to.equal(false);
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
      const bytes = readFileSync(join(BUNDLES, 'listr.cjs'));
      writeFileSync(join(dir, 'listr.cjs'), bytes);
      // the right digest, then what V8 cannot use
      const good = readFileSync(join(BUNDLES, 'listr.cjs.cache'));
      writeFileSync(join(dir, 'listr.cjs.cache'), Buffer.concat([good.subarray(0, 32), Buffer.alloc(4096, 7)]));
      const { source, cache } = readBundle(join(dir, 'listr.cjs'));
      expect(compileBundle(join(dir, 'listr.cjs'), source, cache).cachedDataRejected).to.equal(true);
      const mod = loadBundle(dir, 'listr') as { ListrReporter?: unknown };
      expect(mod.ListrReporter).to.be.a('function');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not use a cache made of other text of the same length (V8 checks only the length)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hotswap-bundles-'));
    try {
      const bytes = readFileSync(join(BUNDLES, 'main.cjs'));
      const at = bytes.indexOf('hotswap');
      const edited = Buffer.from(bytes);
      edited[at] = 'H'.charCodeAt(0); // same length, other text
      writeFileSync(join(dir, 'main.cjs'), edited);
      copyFileSync(join(BUNDLES, 'main.cjs.cache'), join(dir, 'main.cjs.cache'));
      expect(readBundle(join(dir, 'main.cjs')).cache).to.equal(undefined);
      // V8 alone would have taken it
      const v8Data = readFileSync(join(dir, 'main.cjs.cache')).subarray(32);
      expect(compileBundle(join(dir, 'main.cjs'), edited.toString('utf8'), v8Data).cachedDataRejected).to.equal(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads sibling bundles as Node loads modules: a cycle sees exports as they stand, a failed load is tried again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hotswap-bundles-'));
    const g = globalThis as { hotswapBundleTries?: number };
    try {
      writeFileSync(join(dir, 'a.cjs'), "module.exports = { name: 'a' }; module.exports.b = require('./b.cjs');");
      writeFileSync(join(dir, 'b.cjs'), "module.exports = { a: require('./a.cjs') };");
      writeFileSync(join(dir, 'flaky.cjs'), "globalThis.hotswapBundleTries = (globalThis.hotswapBundleTries ?? 0) + 1; if (globalThis.hotswapBundleTries === 1) throw new Error('first load fails'); module.exports = { ok: true };");
      const a = loadBundle(dir, 'a') as { name: string; b: { a: unknown } };
      expect(a.b.a).to.equal(a); // the object assigned to module.exports, not the first {}
      expect(() => loadBundle(dir, 'flaky')).to.throw('first load fails');
      expect(loadBundle(dir, 'flaky')).to.deep.equal({ ok: true });
    } finally {
      delete g.hotswapBundleTries;
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
