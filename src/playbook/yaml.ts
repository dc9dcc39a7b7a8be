// YAML parsed with positions: the data as plain JS plus a way back from any path
// in it to the line and column of the node, so every later check can point at
// the exact key or value an operator has to fix.
import { isAlias, isCollection, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Alias, type Document, type Node, type Pair } from 'yaml';
import { keyPath, type Problem } from './problem.js';
import { PlaybookError } from '../errors.js';

export type Path = readonly (string | number)[];

export interface Located {
  file: string;
  data: unknown;
  /** position of the node at `path`: its key when `at` is 'key' and it has one */
  pos(path: Path, at?: 'key' | 'value'): { line: number; col: number };
  /** a problem at `path`, its message led by the key path (or by `about`, when given) */
  problem(path: Path, message: string, at?: 'key' | 'value', about?: Path): Problem;
}

// A few aliases are normal (anchors for shared settings); thousands are a
// "billion laughs" bomb.
const MAX_ALIASES = 100;
// Text that is not YAML (a Markdown file, say) makes one parser error per line:
// the first few say where it went wrong, the rest are only counted.
const MAX_YAML_ERRORS = 3;

export function parseYaml(file: string, text: string): Located {
  const lineCounter = new LineCounter();
  // duplicate keys are found by keyProblems, in linear time (yaml's own check is quadratic)
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false, strict: true });
  const problems: Problem[] = doc.errors.slice(0, MAX_YAML_ERRORS).map((e) => {
    const lp = lineCounter.linePos(e.pos[0]);
    return { file, line: lp.line, col: lp.col, message: yamlMessage(e.code, e.message, text.slice(e.pos[0], text.indexOf('\n', e.pos[0]) + 1 || undefined)) };
  });
  const more = doc.errors.length - MAX_YAML_ERRORS;
  if (more > 0) {
    const lp = lineCounter.linePos(doc.errors[MAX_YAML_ERRORS]!.pos[0]);
    problems.push({ file, ...lp, message: `and ${more} more YAML error${more === 1 ? '' : 's'}: this does not look like a YAML playbook` });
  }
  if (problems.length) throw new PlaybookError(problems);
  const located = (path: Path, message: string, at: 'key' | 'value' = 'value', about: Path = path) => {
    const label = keyPath(about);
    return { file, ...lineCounter.linePos(offsetOf(doc, path, at)), message: label && !message.startsWith(`${label}:`) ? `${label}: ${message}` : message };
  };
  const bad = keyProblems(doc, file, lineCounter);
  if (bad.length) throw new PlaybookError(bad);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    const msg = String((err as Error).message ?? err);
    const message = /alias/i.test(msg)
      ? `too many YAML alias expansions (over ${MAX_ALIASES}): refusing a possible alias bomb`
      : isStackOverflow(err)
        ? 'nested too deeply to be a playbook'
        : `cannot read YAML: ${clip(msg.split('\n')[0] ?? '')}`;
    throw new PlaybookError([{ file, line: 1, col: 1, message }]);
  }
  const pos = (path: Path, at: 'key' | 'value' = 'value') => lineCounter.linePos(offsetOf(doc, path, at));
  return { file, data, pos, problem: located };
}

const isStackOverflow = (err: unknown) => err instanceof RangeError && /call stack/i.test(err.message);
const clip = (s: string, max = 80) => (s.length > max ? `${s.slice(0, max)}...` : s);

// A list or a mapping used as a key (`[a, b]: 1`, `? {a: 1}`) has no place in a
// playbook; left to toJS it would be stringified, with a Node warning on stderr.
// A key written twice (`1` and "1" included: both are the key "1") is refused.
function keyProblems(doc: Document, file: string, lc: LineCounter): Problem[] {
  const found: Problem[] = [];
  const at = (node: unknown) => lc.linePos((node as Node | null)?.range?.[0] ?? 0);
  try {
    visit(doc, {
      Alias(_, alias) {
        if (isCircular(doc, alias)) found.push({ file, ...at(alias), message: `alias *${clip(alias.source)} is inside the node it names: a value cannot contain itself` });
      },
      Map(_, map) {
        const seen = new Set<string>();
        for (const pair of map.items) {
          if (isCollection(pair.key)) found.push({ file, ...at(pair.key), message: 'a key must be a plain name, not a list or a mapping' });
          else if (isScalar(pair.key)) {
            const key = String(pair.key.value);
            if (seen.has(key)) found.push({ file, ...at(pair.key), message: `duplicate key ${JSON.stringify(clip(key))} (a key may appear only once in a mapping)` });
            seen.add(key);
          }
        }
      },
    });
  } catch (err) {
    if (!isStackOverflow(err)) throw err;
    found.push({ file, line: 1, col: 1, message: 'nested too deeply to be a playbook' });
  }
  return found;
}

/** An alias within its own anchor's node (`&a [*a]`): toJS would build a structure that contains itself, which every later walk follows forever. */
export function isCircular(doc: Document, alias: Alias): boolean {
  const target = alias.resolve(doc) as Node | undefined;
  const [at] = alias.range ?? [];
  const range = target?.range;
  return at !== undefined && range !== undefined && range !== null && at >= range[0] && at < range[2];
}

function yamlMessage(code: string, message: string, source: string): string {
  if (code === 'DUPLICATE_KEY') return `duplicate key ${JSON.stringify(clip(source.split(/[:\n]/)[0]!.trim()))} (a key may appear only once in a mapping)`;
  if (/call stack/i.test(message)) return 'nested too deeply to be a playbook';
  return `not valid YAML: ${clip(message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''), 120)}`;
}

// A mapping's pairs by key, made once per mapping: looking up every problem's
// position must not be quadratic in a file with thousands of keys.
const pairIndex = new WeakMap<object, Map<string, Pair>>();
function pairsOf(map: { items: unknown[] }): Map<string, Pair> {
  let index = pairIndex.get(map);
  if (!index) {
    index = new Map();
    for (const p of map.items) if (isPair(p) && isScalar(p.key) && !index.has(String(p.key.value))) index.set(String(p.key.value), p);
    pairIndex.set(map, index);
  }
  return index;
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
      const pair: Pair | undefined = pairsOf(node).get(String(seg));
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
