#!/usr/bin/env node
// The `hotswap` command: runs the CLI from the bundles and code caches of
// `npm run build` (see bundles.ts), or from tsc's modules when there are no
// bundles (a tree built with tsc alone). The build also bundles this file as
// dist/src/cli/start.cjs, package.json's "bin": a CommonJS entry spares Node
// its ES module loader, some 10 ms of every start.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadBundle } from './bundles.js';

const dir = fileURLToPath(new URL('./bundle/', import.meta.url));
if (existsSync(`${dir}main.cjs`)) loadBundle(dir, 'main');
else void import('./main.js');
