import { readFileSync } from 'node:fs';

// Found by walking up from this file: the same code runs from src/ (tsx) and dist/src/.
export function packageVersion(): string {
  for (let url = new URL('./', import.meta.url); url.pathname !== '/'; url = new URL('../', url)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', url), 'utf8'));
      if (pkg.name === 'hotswap') return pkg.version;
    } catch {
      // not here; keep walking up
    }
  }
  return 'unknown';
}
