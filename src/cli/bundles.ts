// How the shipped `hotswap` runs: from a few CommonJS bundles that `npm run
// build` writes to dist/src/cli/bundle/ (scripts/bundle.ts), each with a V8
// code cache beside it (NAME.cjs.cache), compiled ahead of time. Node 20 has
// no compile cache of its own, and compiling is most of what a start costs
// beyond Node's: an apply compiled ssh2, yaml and the run code at every
// start. The bundles are `main` (the command line), `validate`, `fleet`
// (plan, apply, status, rollback), `ssh2` (loaded on the first connection,
// while its TCP connect is under way) and `listr` (progress on a terminal),
// each loaded only when needed.
//
// V8 checks a cache against the source's length only (and its own version
// and flags), so a cache file starts with the sha256 of the bundle it was
// made of: a cache of any other text is not used. V8 rejects a cache of
// another Node or other flags (NODE_OPTIONS with V8 flags) by itself. Either
// way the bundle is then compiled as usual.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

/** The CommonJS wrapper around a bundle's text: the cache is made of, and checked against, exactly this. */
export function wrap(source: string): string {
  // a bundle's `#!` line is commented out, not cut, so line numbers hold
  return `(function (exports, require, module, __filename, __dirname) {${source.startsWith('#!') ? '//' : ''}${source}\n})`;
}

export function compileBundle(file: string, source: string, cachedData?: Buffer): Script {
  return new Script(wrap(source), { filename: file, ...(cachedData ? { cachedData } : {}) });
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest();

/** A bundle's text, and V8's cache of it when FILE.cache was made of exactly these bytes. */
export function readBundle(file: string): { source: string; cache?: Buffer } {
  const bytes = readFileSync(file);
  let cache: Buffer | undefined;
  try {
    const c = readFileSync(`${file}.cache`);
    if (c.length > 32 && c.subarray(0, 32).equals(sha256(bytes))) cache = c.subarray(32);
  } catch {
    // no cache: compiled as usual
  }
  return { source: bytes.toString('utf8'), cache };
}

/** The content of FILE.cache for a bundle's bytes and its compiled script. */
export function cacheFile(bytes: Buffer, script: Script): Buffer {
  return Buffer.concat([sha256(bytes), script.createCachedData()]);
}

const loaded = new Map<string, { exports: unknown }>();

/**
 * Runs dir/NAME.cjs once and returns its exports. In it, require('./OTHER.cjs')
 * loads a sibling bundle the same way; any other require is Node's, from the
 * bundle's place (ssh2's native binding, cpu-features, Node's own modules).
 */
export function loadBundle(dir: string, name: string): unknown {
  const file = join(dir, `${name}.cjs`);
  const known = loaded.get(file);
  if (known) return known.exports;
  const { source, cache } = readBundle(file);
  const nodeRequire = createRequire(file);
  const sibling = /^\.\/([\w-]+)\.cjs$/;
  const require = Object.assign((id: string) => {
    const m = sibling.exec(id);
    return m ? loadBundle(dir, m[1]!) : nodeRequire(id);
  }, { resolve: nodeRequire.resolve, cache: nodeRequire.cache });
  // as Node does: a bundle required while it loads (a cycle) gets the module's exports as they stand;
  // one that failed to load is tried again, not handed out half made
  const module = { exports: {} as unknown, filename: file, id: file };
  loaded.set(file, module);
  try {
    const run = compileBundle(file, source, cache).runInThisContext() as (...a: unknown[]) => void;
    run.call(module.exports, module.exports, require, module, file, dirname(file));
  } catch (e) {
    loaded.delete(file);
    throw e;
  }
  return module.exports;
}
