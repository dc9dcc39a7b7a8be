import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { globRegExp } from './host-pattern.js';

// Why: `Include ~/.ssh/config.d/*` names files by glob(3); Node 20 has no fs.glob.
// Wildcards (`*`, `?`) work in any path segment; `*` does not match a leading dot;
// results are sorted, as glob(3) returns them. An absolute pattern is expected.
export function expandGlob(pattern: string): string[] {
  if (!/[*?]/.test(pattern)) return [pattern];
  const segments = pattern.split('/').filter((s, i) => s !== '' || i === 0);
  let paths = [segments[0] === '' ? '/' : segments[0]!];
  for (const seg of segments.slice(1)) {
    const next: string[] = [];
    for (const dir of paths) {
      if (!/[*?]/.test(seg)) {
        next.push(join(dir, seg));
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(dir).sort();
      } catch {
        continue;
      }
      for (const n of names) if ((!n.startsWith('.') || seg.startsWith('.')) && globRegExp(seg).test(n)) next.push(join(dir, n));
    }
    paths = next;
  }
  return paths.filter((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
}

