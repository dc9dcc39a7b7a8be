#!/usr/bin/env node
// The `hotswap` command (package.json "bin"): runs the CLI from the bundles
// and code caches of `npm run build` (see bundles.ts), or from tsc's modules
// when there are no bundles (a tree built with tsc alone).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadBundle } from './bundles.js';

const dir = fileURLToPath(new URL('./bundle/', import.meta.url));
if (existsSync(`${dir}main.cjs`)) loadBundle(dir, 'main');
else await import('./main.js');
