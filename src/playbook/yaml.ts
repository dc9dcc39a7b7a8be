// YAML parsed with positions: the data as plain JS plus a way back from any path
// in it to the line and column of the node, so every later check can point at
// the exact key or value an operator has to fix.
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair } from 'yaml';
import { PlaybookError, type Problem } from './problem.js';

export type Path = readonly (string | number)[];

export interface Located {
  file: string;
  data: unknown;
  /** position of the node at `path`: its key when `at` is 'key' and it has one */
  pos(path: Path, at?: 'key' | 'value'): { line: number; col: number };
  problem(path: Path, message: string, at?: 'key' | 'value'): Problem;
}

// A few aliases are normal (anchors for shared settings); thousands are a
// "billion laughs" bomb.
const MAX_ALIASES = 100;

export function parseYaml(file: string, text: string): Located {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  const problems: Problem[] = doc.errors.map((e) => {
    const lp = lineCounter.linePos(e.pos[0]);
    return { file, line: lp.line, col: lp.col, message: yamlMessage(e.code, e.message, text.slice(e.pos[0], text.indexOf("\n", e.pos[0]) + 1 || undefined)) };
  });
  if (problems.length) throw new PlaybookError(problems);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    const msg = String((err as Error).message ?? err);
    const message = /alias/i.test(msg)
      ? `too many YAML alias expansions (over ${MAX_ALIASES}): refusing a possible alias bomb`
      : `cannot read YAML: ${msg.split('\n')[0]}`;
    throw new PlaybookError([{ file, line: 1, col: 1, message }]);
  }
  const toPos = (offset: number) => lineCounter.linePos(offset);
  const pos = (path: Path, at: 'key' | 'value' = 'value') => toPos(offsetOf(doc, path, at));
  return { file, data, pos, problem: (path, message, at = 'value') => ({ file, ...pos(path, at), message }) };
}

function yamlMessage(code: string, message: string, source: string): string {
  if (code === 'DUPLICATE_KEY') return `duplicate key "${source.split(/[:\n]/)[0].trim()}" (a key may appear only once in a mapping)`;
  return `not valid YAML: ${message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`;
}

// Walks the document along `path`; when a segment is missing (a required key,
// say) the deepest node found stands in for it.
function offsetOf(doc: Document, path: Path, at: 'key' | 'value'): number {
  let node: Node | null | undefined = doc.contents as Node | null;
  let keyNode: Node | null = null;
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc) as Node | undefined;
    let next: Node | null | undefined;
    keyNode = null;
    if (isMap(node)) {
      const pair: Pair | undefined = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (pair) {
        keyNode = pair.key as Node;
        next = (pair.value as Node | null) ?? null;
        if (next === null) {
          node = keyNode;
          continue;
        }
      }
    } else if (isSeq(node) && typeof seg === 'number') {
      next = node.items[seg] as Node | undefined;
    }
    if (!next) return node?.range?.[0] ?? 0;
    node = next;
  }
  if (at === 'key' && keyNode?.range) return keyNode.range[0];
  return node?.range?.[0] ?? 0;
}
