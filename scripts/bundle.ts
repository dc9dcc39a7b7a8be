// Bundles the CLI (run by `npm run build`, after tsc) into
// dist/src/cli/bundle/, where dist/src/cli/start.cjs (the `bin`, bundled from
// src/cli/start.ts) runs it from (see src/cli/bundles.ts):
//   main.cjs      the command line: arguments, help, errors
//   validate.cjs  `hotswap validate`
//   fleet.cjs     plan, apply, status and rollback
//   ssh2.cjs      ssh2's client, loaded on the first connection
//   listr.cjs     the progress display on a terminal
// yaml, listr2 and ssh2's JavaScript are inside the bundles; ssh2's native
// binding and cpu-features (optional) load from node_modules at run time.
// Each bundle gets a V8 code cache (NAME.cjs.cache) of every function in it,
// compiled here and nothing run; it is checked to be accepted before the
// build passes. Every other file under dist/src is tsc's output, for the tests.
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import type { Script } from 'node:vm';
import { cacheFile, compileBundle } from '../src/cli/bundles.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const out = `${root}dist/src/cli/bundle`;
rmSync(out, { recursive: true, force: true });
rmSync(`${root}dist/src/cli/chunks`, { recursive: true, force: true }); // an older layout

const FLEET_COMMANDS = ['plan', 'apply', 'status', 'rollback'];

// An import that crosses from one bundle to another becomes a small module
// of this bundle whose body is require('./NAME.cjs'), which the loader
// resolves to the sibling bundle (an import() of an external file would stay
// an ES import, which a bundle run by the loader cannot make). The error
// classes that main.cjs tells apart with instanceof (exit.ts, problem.ts)
// exist once, in main.cjs, and the other bundles take them from it.
const SHARED = ['src/cli/exit.ts', 'src/playbook/problem.ts'];
// ssh2.cjs: what src/transport/ssh2.ts requires, by name; loaded on the first
// connection, while its TCP connect is under way
const SSH2_MODULES: Record<string, string> = { 'ssh2/lib/client.js': 'client', 'ssh2/lib/protocol/keyParser.js': 'keyParser', 'ssh2/lib/agent.js': 'agent' };

function crossings(bundle: string): Plugin {
  return {
    name: 'hotswap-bundles',
    setup(b) {
      const cross = (to: string, member?: string) => ({ path: member ? `${to}.${member}` : to, namespace: 'crossing' });
      b.onResolve({ filter: /^\.\/[\w-]+\.cjs$/ }, (a) => ({ path: a.path, external: true }));
      b.onResolve({ filter: /^\.\.?\/.*\.js$/ }, (a) => {
        const target = relative(root, resolve(a.resolveDir, a.path)).replace(/\.js$/, '.ts');
        if (bundle !== 'main' && SHARED.includes(target)) return cross('main');
        if (bundle === 'main' && a.importer.endsWith('/src/cli/main.ts')) {
          const name = /^src\/cli\/(validate|plan|apply|status|rollback)\.ts$/.exec(target)?.[1];
          if (name) return name === 'validate' ? cross('validate') : cross('fleet', name);
        }
        if (target === 'src/report/listr.ts' && bundle !== 'listr') return cross('listr');
        return undefined;
      });
      // ssh2's modules, as src/transport/ssh2.ts asks for them
      b.onResolve({ filter: /^ssh2\/lib\// }, (a) => {
        const member = SSH2_MODULES[a.path];
        return bundle !== 'ssh2' && member ? cross('ssh2', member) : undefined;
      });
      b.onLoad({ filter: /.*/, namespace: 'crossing' }, (a) => {
        const [to, member] = a.path.split('.');
        return { contents: `module.exports = require('./${to}.cjs')${member ? `.${member}` : ''};`, loader: 'js', resolveDir: root };
      });
      // ssh2's require() calls go into the bundle: drop the createRequire that tsc's output needs
      b.onLoad({ filter: /\/src\/transport\/ssh2\.ts$/ }, (a) => {
        const line = 'const require = createRequire(import.meta.url);\n';
        const text = readFileSync(a.path, 'utf8');
        if (!text.includes(line)) throw new Error(`${a.path}: expected the line ${JSON.stringify(line)}`);
        return { contents: text.replace(line, ''), loader: 'ts' };
      });
      // ssh2's native binding stays a file of the ssh2 package, found from node_modules
      b.onResolve({ filter: /\.node$/ }, (a) => {
        const at = `${a.resolveDir}/${a.path}`.split('/node_modules/').pop()!;
        return { path: at.replace(/\/\.\//g, '/'), external: true };
      });
    },
  };
}

const common: BuildOptions = {
  absWorkingDir: root,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['cpu-features'],
  // version.ts finds package.json from its own place: the bundle's
  define: { 'import.meta.url': '__hotswapUrl' },
  banner: { js: "const __hotswapUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
};

const entry = (name: string, contents: string, loader: 'ts' | 'js' = 'ts') => ({ stdin: { contents, resolveDir: root, sourcefile: `${name}.${loader}`, loader }, outfile: `${out}/${name}.cjs`, plugins: [crossings(name)] });
await Promise.all([
  // main.cjs also exports the shared classes, for the other bundles
  build({ ...common, ...entry('main', `${SHARED.map((f) => `export * from './${f}';`).join('\n')}\nimport './src/cli/main.ts';`) }),
  build({ ...common, ...entry('validate', "export * from './src/cli/validate.ts';") }),
  build({ ...common, ...entry('listr', "export * from './src/report/listr.ts';") }),
  build({ ...common, ...entry('fleet', FLEET_COMMANDS.map((c) => `export * as ${c} from './src/cli/${c}.ts';`).join('\n')) }),
  // the bin: a CommonJS entry (see src/cli/start.ts), beside tsc's start.js
  build({ ...common, entryPoints: ['src/cli/start.ts'], outfile: `${root}dist/src/cli/start.cjs`, external: ['./main.js'] }),
  build({ ...common, ...entry('ssh2', `module.exports = { ${Object.entries(SSH2_MODULES).map(([path, name]) => `${name}: require('${path}')`).join(', ')} };`, 'js') }),
]);

const BUNDLES = ['main', 'validate', 'fleet', 'listr', 'ssh2'];
for (const name of BUNDLES) {
  const file = `${out}/${name}.cjs`;
  const bytes = readFileSync(file);
  // every function compiled now, not on first call: the cache holds them all.
  // The cache records the flags in force when it is made: the default ones again.
  setFlagsFromString('--no-lazy');
  let script: Script;
  try {
    script = compileBundle(file, bytes.toString('utf8'));
  } finally {
    setFlagsFromString('--lazy');
  }
  writeFileSync(`${file}.cache`, cacheFile(bytes, script));
}

// Checked in a process of its own: this one may keep what it compiled, and would accept anything.
const check = spawnSync(process.execPath, ['--input-type=module', '-e', `
  import { compileBundle, readBundle } from ${JSON.stringify(`${root}dist/src/cli/bundles.js`)};
  for (const name of ${JSON.stringify(BUNDLES)}) {
    const file = ${JSON.stringify(out)} + '/' + name + '.cjs';
    const { source, cache } = readBundle(file);
    if (!cache || compileBundle(file, source, cache).cachedDataRejected) { console.error(file + '.cache: not used'); process.exitCode = 1; }
  }`], { stdio: 'inherit' });
if (check.status !== 0) throw new Error('the code caches just made are not accepted by this Node');
