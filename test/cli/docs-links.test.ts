// Every relative link in README.md and docs/*.md points at a file or folder
// of the repository, and every #anchor at a heading of its target, as GitHub
// names them: a moved section or file breaks this test, not a reader's click.
import { expect } from 'chai';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];

/** [text](target) links, images included; the text may hold inline code. */
export function links(md: string): string[] {
  const noFences = md.replace(/^```[\s\S]*?^```\s*$/gm, '');
  return [...noFences.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens, -1, -2 for repeats. */
export function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of md.replace(/^```[\s\S]*?^```\s*$/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1]!.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

describe('links in README.md and docs/', () => {
  it('finds the documents and their links', () => {
    expect(DOCS).to.include.members(['README.md', join('docs', 'playbook.md'), join('docs', 'operations.md'), join('docs', 'ssh.md'), join('docs', 'benchmark.md'), join('docs', 'development.md')]);
    expect(links('see [a `b`](docs/x.md#y) and ![i](img.png "t")\n```\n[no](not-a-link.md)\n```')).to.deep.equal(['docs/x.md#y', 'img.png']);
    expect([...anchors('# A b\n## `--json`: one event per line\n## plan (and apply --dry-run)\n### ~/.ssh/config\n## A b')])
      .to.deep.equal(['a-b', '--json-one-event-per-line', 'plan-and-apply---dry-run', 'sshconfig', 'a-b-1']);
  });

  for (const doc of DOCS) {
    it(`every relative link in ${doc} resolves`, () => {
      const text = readFileSync(join(ROOT, doc), 'utf8');
      const broken: string[] = [];
      for (const link of links(text)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto: ...
        const [path, anchor] = link.split('#') as [string, string | undefined];
        const target = path === '' ? join(ROOT, doc) : join(ROOT, dirname(doc), decodeURI(path));
        if (!relative(ROOT, target) || relative(ROOT, target).startsWith('..')) broken.push(`${link}: outside the repository`);
        else if (!existsSync(target)) broken.push(`${link}: no such file or folder`);
        else if (anchor !== undefined) {
          if (!statSync(target).isFile() || !target.endsWith('.md')) broken.push(`${link}: an anchor into a file that is not markdown`);
          else if (!anchors(readFileSync(target, 'utf8')).has(anchor)) broken.push(`${link}: no heading with anchor #${anchor} in ${relative(ROOT, target)}`);
        }
      }
      expect(broken, `${doc}: broken links`).to.deep.equal([]);
    });
  }

  it('the documents link to each other: the README to every page of docs/, each page to another document', () => {
    const targets = (doc: string) => links(readFileSync(join(ROOT, doc), 'utf8')).map((l) => join(dirname(doc), l.split('#')[0]!)).filter((t) => t.endsWith('.md'));
    for (const doc of DOCS.filter((d) => d !== 'README.md')) {
      expect(targets('README.md'), `README.md links to ${doc}`).to.include(doc);
      expect(targets(doc).filter((t) => t !== doc), `${doc} links to another document`).not.to.be.empty;
    }
  });
});
