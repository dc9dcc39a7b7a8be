// --limit through the CLI: which hosts an apply is about to touch. Without a
// terminal and without --yes, apply prints its batches and refuses (exit 2)
// before contacting any host, so no host is needed to see the selection.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VALID, writeTemp } from '../playbook/helpers.js';
import { runCli } from './run-cli.js';

const HOSTS = ['web-1', 'web-2', 'db-1', 'db-2', 'cache-1'];
const INVENTORY = '[web]\nweb-1\nweb-2\n\n[db]\ndb-1\ndb-2\n\n[backend:children]\ndb\n';

function playbook(): string {
  const text = VALID.replace('hosts:\n  - edge-1\n', `inventory: ./hosts.ini\nhosts:\n${HOSTS.map((h) => `  - { name: ${h}, address: 127.0.0.1, port: 1 }\n`).join('')}`);
  const file = writeTemp(text, 'fleet.yaml');
  writeFileSync(join(file, '..', 'hosts.ini'), INVENTORY);
  writeFileSync(join(file, '..', 'nginx'), '#!/bin/sh\n');
  return file;
}

/** The hosts apply announces, in order, or the failure. */
async function selected(limit: string): Promise<{ hosts: string[]; code: number | null; stderr: string }> {
  const r = await runCli(['apply', playbook(), '--limit', limit]);
  const hosts = [...r.stderr.matchAll(/^ {2}batch \d+: (.*)$/gm)].flatMap((m) => m[1].split(', '));
  return { hosts, code: r.code, stderr: r.stderr };
}

describe('apply --limit (CLI)', () => {
  const cases: [string, string[]][] = [
    ['web-1', ['web-1']],
    ['db-2,web-1', ['web-1', 'db-2']],
    ['web-1:db-2', ['web-1', 'db-2']],
    ['web', ['web-1', 'web-2']],
    ['backend', ['db-1', 'db-2']],
    ['web-*', ['web-1', 'web-2']],
    ['*-1', ['web-1', 'db-1', 'cache-1']],
    ['?b-[!3]', ['db-1', 'db-2']],
    ['db[1]', ['db-2']],
    ['*-1[-1]', ['cache-1']],
    ['!db-1', ['web-1', 'web-2', 'db-2', 'cache-1']],
    ['all,!web', ['db-1', 'db-2', 'cache-1']],
    ['db,!db-2', ['db-1']],
    ['web,&*-2', ['web-2']],
    ['~(web|cache)-1', ['web-1', 'cache-1']],
  ];
  for (const [limit, hosts] of cases) {
    it(`${JSON.stringify(limit)} selects ${hosts.join(', ')}`, async () => {
      const r = await selected(limit);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.match(/no terminal to ask on: refusing/);
      expect(r.hosts).to.deep.equal(hosts);
      expect(r.stderr).to.include(`${hosts.length} host${hosts.length === 1 ? '' : 's'} in 1 batch:`);
    });
  }

  it('warns about a term that matches nothing, and goes on with the rest', async () => {
    const r = await selected('web-1,wbe-2');
    expect(r.hosts).to.deep.equal(['web-1']);
    expect(r.stderr).to.match(/warning: --limit: nothing matches wbe-2/);
  });

  for (const [limit, message] of [
    ['nothing-here', /--limit "nothing-here" matches no host of the playbook/],
    ['web,!web', /--limit "web,!web" matches no host/],
    ['~(', /--limit: host pattern "~\(" is not a valid regular expression/],
    ['  ', /--limit needs a pattern/],
  ] as const) {
    it(`refuses ${JSON.stringify(limit)} with exit 2 and no stack, before contacting any host`, async () => {
      const r = await runCli(['apply', playbook(), '--limit', limit, '--yes']);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.match(message);
      expect(r.stderr).not.to.match(/\n\s+at .+:\d+:\d+/);
      expect(r.stderr).not.to.match(/batch 1/);
      expect(r.stdout).to.equal('');
    });
  }
});
