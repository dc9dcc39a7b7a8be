// The playbook key reference in docs/playbook.md, generated from the schema so
// the two never disagree: `node dist/scripts/playbook-reference.js --write`
// rewrites the table between its markers; test/cli/readme.test.ts fails when
// they drift.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { playbookJsonSchema } from '../src/playbook/schema.js';

type S = Record<string, any>;
const START = '<!-- playbook-keys:start -->';
const END = '<!-- playbook-keys:end -->';

/** docs/playbook.md, from this file as tsc compiled it (dist/scripts/) or as tsx runs it (scripts/). */
export function referenceFile(): string {
  const here = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(/[\\/]dist[\\/]scripts[\\/]/.test(here) ? '../../docs/playbook.md' : '../docs/playbook.md', import.meta.url));
}

function typeOf(s: S): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.anyOf) return [...new Set(s.anyOf.map(typeOf))].join(' \\| ');
  if (s.type === 'array') return `list of ${typeOf(s.items)}`;
  if (s.type === 'object') return 'mapping';
  if (s.type === 'integer') return 'integer';
  return s.type ?? 'value';
}

function rows(s: S, path: string, out: string[], required: string[] = []) {
  const props = s.properties as Record<string, S> | undefined;
  if (!props) return;
  for (const [key, sub] of Object.entries(props)) {
    const p = path ? `${path}.${key}` : key;
    const target = sub.type === 'array' && sub.items?.properties ? sub.items : sub.anyOf?.find((b: S) => b.type === 'array' && b.items?.anyOf)?.items?.anyOf?.find((b: S) => b.properties) ?? sub;
    const example = (sub.examples ?? target.examples)?.[0];
    out.push(`| \`${p}\` | ${typeOf(sub)}${required.includes(key) ? ' (required)' : ''} | ${(sub.description ?? target.description ?? '').replace(/\|/g, '\\|')} | ${example === undefined ? '' : `\`${JSON.stringify(example).replace(/\|/g, '\\|')}\``} |`);
    if (target.properties && target !== s) rows(target, sub.type === 'array' || target !== sub ? `${p}[]` : p, out, target.required ?? []);
    else if (sub.properties) rows(sub, p, out, sub.required ?? []);
  }
}

export function playbookReference(): string {
  const schema = playbookJsonSchema() as S;
  const out = ['| key | type | meaning | example |', '| --- | --- | --- | --- |'];
  rows(schema, '', out, schema.required);
  return out.join('\n');
}

/** The document with the table between its markers replaced by the schema's. */
export function withReference(doc: string): string {
  const a = doc.indexOf(START);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`docs/playbook.md has no ${START} … ${END} markers`);
  return `${doc.slice(0, a + START.length)}\n${playbookReference()}\n${doc.slice(b)}`;
}

if (process.argv.includes('--write')) {
  const file = referenceFile();
  writeFileSync(file, withReference(readFileSync(file, 'utf8')));
  console.log(`wrote the playbook key reference into ${file}`);
}
