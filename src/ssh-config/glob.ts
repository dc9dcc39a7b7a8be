import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { globRegExp } from './host-pattern.js';

// Why: `Include ~/.ssh/config.d/*` names files by glob(3); Node 20 has no fs.glob.
// Wildcards (`*`, `?`) work in any path segment; `*` does not match a leading dot;
// results are sorted, as glob(3) returns them. An absolute pattern is expected.
export function expandGlob(pattern: string, max = Infinity): string[] {
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
      const re = globRegExp(seg);
      for (const n of names) if ((!n.startsWith('.') || seg.startsWith('.')) && re.test(n)) next.push(join(dir, n));
    }
    paths = next;
  }
  // at most `max` files: past that the caller refuses the Include anyway (no stat of 100 000 files first)
  const files: string[] = [];
  for (const p of paths) {
    if (files.length >= max) break;
    try {
      if (statSync(p).isFile()) files.push(p);
    } catch {
      // gone or unreadable: glob(3) does not list it either
    }
  }
  return files;
}

