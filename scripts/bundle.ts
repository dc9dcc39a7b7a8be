// Bundles the CLI (run by `npm run build`, after tsc): dist/src/cli/main.js,
// the `bin`, is replaced by an esbuild bundle of src/cli/main.ts with yaml
// and listr2 inside it, so a start reads a handful of files instead of
// some 200 small ones. Each command stays a chunk of its own
// (dist/src/cli/chunks/), loaded only when it runs. Every other file under
// dist/src is tsc's output, for the tests that import it.
//
// ssh2 stays outside: it loads native bindings (sshcrypto.node, cpu-features)
// from paths relative to its own files.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const chunks = `${root}dist/src/cli/chunks`;
rmSync(chunks, { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: { main: 'src/cli/main.ts' },
  outdir: 'dist/src/cli',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['ssh2'],
  // the bundled CommonJS packages call require(): give the ES module one
  banner: { js: "import { createRequire as __hotswapRequire } from 'node:module';\nconst require = __hotswapRequire(import.meta.url);" },
  logLevel: 'warning',
});
