// The shape of src/ that keeps it easy to change: no module imports itself
// back through others (type-only imports count: a cycle of types is still two
// modules that cannot be read or moved apart), and no file over 400 lines.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
const MAX_LINES = 400;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

// `import … from './x.js'`, `export … from './x.js'`, `import './x.js'`, `import('./x.js')`
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)'(\.{1,2}\/[^']+)'/g;

/** Each module's relative imports, as absolute .ts paths of src/. */
function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const to = [...text.matchAll(SPECIFIER)].map((m) => resolve(dirname(f), m[1]!.replace(/\.js$/, '.ts')));
    graph.set(f, [...new Set(to)]);
  }
  return graph;
}

/** The cycles, each as the modules in it in import order, back to the first (one per strongly connected group). */
function cycles(graph: Map<string, string[]>): string[][] {
  // Tarjan: the groups of modules that reach each other
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1 || graph.get(v)!.includes(v)) groups.push(group);
    }
  };
  for (const f of graph.keys()) if (!index.has(f)) visit(f);
  // each group by one concrete loop through its first module (the shortest way back), then the others in it
  return groups.map((group) => {
    const loop = loopThrough(graph, new Set(group), [...group].sort()[0]!);
    return [...loop, ...group.filter((f) => !loop.includes(f)).sort()];
  });
}

function loopThrough(graph: Map<string, string[]>, group: Set<string>, start: string): string[] {
  const from = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!group.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let at = v; at !== start; at = from.get(at)!) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!from.has(w)) {
        from.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

describe('structure of src/', () => {
  const files = sources(SRC);
  const name = (f: string) => relative(SRC, f);

  it('finds a cycle when there is one, and names it (the check itself)', () => {
    const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a', 'd']], ['d', []], ['e', ['e']]]);
    expect(cycles(g)).to.deep.equal([['a', 'b', 'c', 'a'], ['e', 'e']]);
    g.set('d', ['b']);
    expect(cycles(g)).to.deep.equal([['a', 'b', 'c', 'a', 'd'], ['e', 'e']]);
    const lines = `import type { X } from './types.js';\nexport { y } from '../run/y.js';\nimport './side.js';\nconst m = await import('./lazy.js');\nimport { z } from 'node:fs';\n`;
    expect([...lines.matchAll(SPECIFIER)].map((m) => m[1])).to.deep.equal(['./types.js', '../run/y.js', './side.js', './lazy.js']);
  });

  it('has no import cycles (type-only imports count)', () => {
    expect(files.length).to.be.above(50);
    const found = cycles(importGraph(files)).map((c) => {
      const loop = c.slice(0, c.indexOf(c[0]!, 1) + 1).map(name).join(' -> ');
      const also = c.slice(c.indexOf(c[0]!, 1) + 1).map(name);
      return also.length ? `${loop} (in the same knot: ${also.join(', ')})` : loop;
    });
    expect(found, `import cycles in src/ (move what both sides need to a module both import):\n${found.join('\n')}`).to.deep.equal([]);
  });

  it(`has no source file over ${MAX_LINES} lines`, () => {
    const long = files
      .map((f) => ({ f: name(f), lines: readFileSync(f, 'utf8').split('\n').length - 1 }))
      .filter((x) => x.lines > MAX_LINES)
      .map((x) => `${x.f}: ${x.lines} lines`);
    expect(long, `files over ${MAX_LINES} lines (split them by job):\n${long.join('\n')}`).to.deep.equal([]);
  });
});
