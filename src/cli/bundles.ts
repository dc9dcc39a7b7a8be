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
// V8 takes a cache only for the exact source, V8 version and flags it was
// made with; any other (another Node, NODE_OPTIONS with V8 flags) is
// rejected by V8 itself and the bundle is compiled as usual.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

/** The CommonJS wrapper around a bundle's text: the cache is made of, and checked against, exactly this. */
export function wrap(source: string): string {
  // a bundle's `#!` line is commented out, not cut, so line numbers hold
  return `(function (exports, require, module, __filename, __dirname) {${source.startsWith('#!') ? '//' : ''}${source}\n})`;
}

export function compileBundle(file: string, cachedData?: Buffer): Script {
  return new Script(wrap(readFileSync(file, 'utf8')), { filename: file, ...(cachedData ? { cachedData } : {}) });
}

const loaded = new Map<string, unknown>();

/**
 * Runs dir/NAME.cjs once and returns its exports. In it, require('./OTHER.cjs')
 * loads a sibling bundle the same way; any other require is Node's, from the
 * bundle's place (ssh2's native binding, cpu-features, Node's own modules).
 */
export function loadBundle(dir: string, name: string): unknown {
  const file = join(dir, `${name}.cjs`);
  if (loaded.has(file)) return loaded.get(file);
  let cache: Buffer | undefined;
  try {
    cache = readFileSync(`${file}.cache`);
  } catch {
    // no cache: compiled as usual
  }
  const nodeRequire = createRequire(file);
  const sibling = /^\.\/([\w-]+)\.cjs$/;
  const require = Object.assign((id: string) => {
    const m = sibling.exec(id);
    return m ? loadBundle(dir, m[1]!) : nodeRequire(id);
  }, { resolve: nodeRequire.resolve, cache: nodeRequire.cache });
  const module = { exports: {} as unknown, filename: file, id: file };
  loaded.set(file, module.exports);
  const run = compileBundle(file, cache).runInThisContext() as (...a: unknown[]) => void;
  run.call(module.exports, module.exports, require, module, file, dirname(file));
  loaded.set(file, module.exports);
  return module.exports;
}
