import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One apt source: its kind (deb, deb-src), base URI and suites. */
export type AptSource = { types: string[]; uri: string; suites: string[] };

// Why: debootstrap needs a mirror, and the only one known to work on this machine
// (no other internet) is the one apt already uses; read it instead of guessing.
/** The URI of the first enabled `deb` source that serves `suite`, from apt's own files. */
export function aptMirror(suite = 'bookworm', etc = '/etc/apt'): string {
  const sources = readAptSources(etc);
  const hit = sources.find((s) => s.types.includes('deb') && s.suites.includes(suite));
  if (!hit) {
    throw new Error(`no apt source for Debian ${suite} in ${etc}/sources.list or ${etc}/sources.list.d/*.{list,sources} ` +
      `(found: ${sources.map((s) => `${s.uri} ${s.suites.join(',')}`).join('; ') || 'none'}): the systemd lab builds its root from it`);
  }
  return hit.uri;
}

export function readAptSources(etc = '/etc/apt'): AptSource[] {
  const files: string[] = [];
  const main = join(etc, 'sources.list');
  files.push(main);
  const dir = join(etc, 'sources.list.d');
  let names: string[] = [];
  try {
    names = readdirSync(dir).sort();
  } catch {
    // no sources.list.d
  }
  for (const n of names) if (n.endsWith('.list') || n.endsWith('.sources')) files.push(join(dir, n));
  const out: AptSource[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    out.push(...(f.endsWith('.sources') ? parseDeb822Sources(text) : parseOneLineSources(text)));
  }
  return out;
}

/** `deb [arch=amd64 signed-by=…] URI SUITE COMPONENT…` lines. */
export function parseOneLineSources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').replace(/\[[^\]]*\]/, ' ').trim();
    const [type, uri, suite] = line.split(/\s+/);
    if ((type === 'deb' || type === 'deb-src') && uri && suite) out.push({ types: [type], uri, suites: [suite] });
  }
  return out;
}

/** deb822 stanzas (`Types:`, `URIs:`, `Suites:`, `Enabled:`), separated by blank lines. */
export function parseDeb822Sources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last = '';
    for (const line of stanza.split('\n')) {
      if (line.startsWith('#')) continue;
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m) fields.set((last = m[1]!.toLowerCase()), m[2]!.trim());
      else if (/^\s/.test(line) && last) fields.set(last, `${fields.get(last)} ${line.trim()}`);
    }
    if ((fields.get('enabled') ?? 'yes').toLowerCase() === 'no') continue;
    const words = (k: string) => (fields.get(k) ?? '').split(/\s+/).filter(Boolean);
    for (const uri of words('uris')) out.push({ types: words('types'), uri, suites: words('suites') });
  }
  return out;
}
