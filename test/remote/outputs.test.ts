// The scripts that report data print the one line format (lib/kv.sh) and are
// read by parseLines: run here on real files through a LocalTransport.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeStr, parseLines } from '../../src/nginx/format.js';
import { runScript, runScriptOk } from '../../src/remote/run.js';
import { journalIn } from '../../src/run/journal.js';
import { LocalTransport } from '../../src/transport/local.js';

const t = new LocalTransport('local');
const text = (out: string, kind: string, key: string) => (parseLines(out, kind).values.get(key) ?? []).map(decodeStr);

describe('host scripts: what they report, in the one format', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hotswap-remote-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('status-extras: each backup with its sha256, names with a newline or UTF-8 kept whole; the lock owner', async () => {
    const names = ['nginx.20260101T000000Z.bak', 'nginx.a\nb é.bak'];
    for (const n of names) await writeFile(join(dir, n), n);
    await mkdir(join(dir, 'hotswap.lock'));
    await writeFile(join(dir, 'hotswap.lock', 'owner'), '{"run":"r1"}\n');
    const out = await runScriptOk(t, 'status-extras', [dir, 'nginx', join(dir, 'hotswap.lock'), '-']);
    const paths = text(out, 'status', 'backup_s');
    expect([...paths].sort()).to.deep.equal(names.map((n) => join(dir, n)).sort());
    const shas = parseLines(out, 'status').values.get('backup_sha256')!;
    paths.forEach((p, i) => expect(shas[i]).to.equal(createHash('sha256').update(p.slice(dir.length + 1)).digest('hex')));
    expect(text(out, 'status', 'lock_s')).to.deep.equal(['{"run":"r1"}']);
    expect(text(out, 'status', 'version_s')).to.deep.equal([]);
  });

  it('lock-take: acquired with the journal tail (a UTF-8 line and a torn last line), then held, then broken', async () => {
    const lock = join(dir, 'hotswap.lock');
    const journal = join(dir, 'hotswap.journal');
    const lines = [JSON.stringify({ run: 'r0', event: 'start', host: 'hé' }), JSON.stringify({ run: 'r0', event: 'end' })];
    await writeFile(journal, `${lines.join('\n')}\n{"run":"r0","ev`);
    const first = await runScript(t, 'lock-take', [lock, '{"run":"r1"}', '0', journal]);
    expect(first.code).to.equal(0);
    expect(parseLines(first.stdout, 'lock').values.get('result')).to.deep.equal(['acquired']);
    expect(journalIn(first.stdout, 'lock').map((e) => (e as { host?: string }).host ?? e.event)).to.deep.equal(['hé', 'end']);
    const held = await runScript(t, 'lock-take', [lock, '{"run":"r2"}', '0', journal]);
    expect(held.code).to.equal(3);
    expect(text(held.stdout, 'lock', 'owner_s')).to.deep.equal(['{"run":"r1"}']);
    const broke = await runScript(t, 'lock-take', [lock, '{"run":"r3"}', '1', journal]);
    expect(broke.code).to.equal(0);
    expect(parseLines(broke.stdout, 'lock').values.get('result')).to.deep.equal(['broke']);
    expect(text(broke.stdout, 'lock', 'owner_s')).to.deep.equal(['{"run":"r1"}']);
    expect(journalIn(await runScriptOk(t, 'journal-read', [journal]), 'journal')).to.have.length(2);
    expect(journalIn(await runScriptOk(t, 'journal-read', [join(dir, 'none')]), 'journal')).to.deep.equal([]);
  });

  it('master-check: a pid file naming no process says so, and the output is complete', async () => {
    await writeFile(join(dir, 'nginx.pid'), '999999999\n');
    const out = await runScriptOk(t, 'master-check', [join(dir, 'nginx.pid'), '1']);
    expect(Object.fromEntries(parseLines(out, 'master').values)).to.deep.equal({ pid: ['999999999'] });
  });
});
