// Bundles the CLI (run by `npm run build`, after tsc) into dist/hotswap.cjs:
// package.json's "bin" and the one copy of the program that `npm pack` ships.
// Everything but ssh2 is inside it (our code, yaml, listr2). ssh2 is loaded
// from node_modules when the first connection opens (src/transport/ssh2.ts),
// with its native binding. The rest of dist/ is tsc's output, for the lab
// and the bench; the tests run src/ through tsx and the CLI from this bundle.
//
// CommonJS rather than an ES module bundle, and nothing more (no code caches,
// no split bundles, no minifying): measured A/B against those, see
// docs/development.md#build.
import { build, type Plugin } from 'esbuild';
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { playbookJsonSchema } from '../src/playbook/schema.js';
import { playbookValidatorSource } from './playbook-validator.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

const BUNDLE = 'dist/hotswap.cjs';

// src/playbook/schema-validator.ts compiles the schema with ajv when it loads;
// the bundle gets ajv's standalone code for it instead, generated here (no ajv
// in the bundle, and `validate` about 100 ms of CPU faster).
const VALIDATOR = /[\\/]src[\\/]playbook[\\/]schema-validator\.ts$/;
let validatorGenerated = false;
const standaloneValidator: Plugin = {
  name: 'standalone-playbook-validator',
  setup(b) {
    b.onLoad({ filter: VALIDATOR }, () => {
      validatorGenerated = true;
      return { contents: playbookValidatorSource(playbookJsonSchema()), loader: 'js' };
    });
  },
};

// The host scripts (src/remote/*.sh, lib/*.sh) are read from beside
// src/remote/sources.ts. tsc's dist/ gets a copy of the folder's .sh files;
// the bundle gets their text in place of that module.
const REMOTE = 'src/remote';
const SOURCES = /[\\/]src[\\/]remote[\\/]sources\.ts$/;
const shFiles = readdirSync(`${root}${REMOTE}`, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.sh')).map((f) => f.replace(/\\/g, '/'));
cpSync(`${root}${REMOTE}`, `${root}dist/${REMOTE}`, { recursive: true, filter: (src) => !/\.ts$/.test(src) });
let scriptsInlined = false;
const inlineScripts: Plugin = {
  name: 'inline-host-scripts',
  setup(b) {
    b.onLoad({ filter: SOURCES }, () => {
      scriptsInlined = true;
      const files = Object.fromEntries(shFiles.map((f) => [f, readFileSync(`${root}${REMOTE}/${f}`, 'utf8')]));
      return {
        contents: `const FILES = ${JSON.stringify(files)};
export function readSource(path) {
  if (!Object.hasOwn(FILES, path)) throw new Error('no host script file ' + path + ' in this build');
  return FILES[path];
}`,
        loader: 'js',
      };
    });
  },
};

await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outfile: BUNDLE,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // ssh2 has a native binding and is loaded only on the first connection
  external: ['ssh2', 'cpu-features'],
  // import.meta.url in a CommonJS file: the bundle's own place (version.ts
  // finds package.json from it; ssh2.ts requires ssh2 from it)
  define: { 'import.meta.url': '__hotswapUrl' },
  banner: { js: "'use strict';\nconst __hotswapUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [standaloneValidator, inlineScripts],
  logLevel: 'warning',
});
if (!validatorGenerated) throw new Error('src/playbook/schema-validator.ts was not in the bundle: the standalone validator went nowhere');
if (!scriptsInlined) throw new Error('src/remote/sources.ts was not in the bundle: the host scripts went nowhere');
