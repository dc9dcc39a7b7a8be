import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropUpload, uploadEarly } from '../../src/steps/copy-binary.js';
import { Events } from '../../src/run/events.js';
import { modeOf, POLICY } from '../../src/run/executor.js';
import type { RunContext } from '../../src/run/host-run.js';
import type { JournalEntry } from '../../src/run/journal.js';
import { LocalTransport } from '../../src/transport/local.js';

// uploadEarly on a real directory, through the local transport (statvfs by fs.statfs)
describe('the upload sent while the lock and facts are read', () => {
  let dir: string;
  const bytes = Buffer.from('#!/bin/sh\necho new nginx\n');
  const sha = 'b'.repeat(64);
  const t = new LocalTransport('local');
  const ctx = (): RunContext => ({
    dryRun: false, command: 'apply', events: new Events(), runId: 'testrun1', stamp: '20261204T000000Z',
    binaries: new Map([['./nginx', { path: './nginx', sha256: sha, size: bytes.length, bytes }]]),
  });
  // as runHost calls it: copy-binary's build, beside the configured binary
  const early = (c: RunContext, locked: Promise<{ journal: JournalEntry[] }>) => uploadEarly(t, c, join(dir, 'nginx'), c.binaries.get('./nginx'), locked);
  const ended = (newSha: string, result: string): JournalEntry => ({ ts: '', run: 'earlier', host: 'h', event: 'end', phase: 'done', result, state: { oldPid: 1, target: '', oldSha: '', newSha } });
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'hotswap-early-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('sends the build to its staged name beside the binary once the lock is held', async () => {
    const u = await early(ctx(), Promise.resolve({ journal: [] }));
    expect(u?.staged).to.equal(join(dir, '.nginx.hotswap-testrun1'));
    await u!.done;
    expect(readFileSync(u!.staged)).to.deep.equal(bytes);
    await dropUpload(t, u!);
    expect(() => readFileSync(u!.staged)).to.throw(/ENOENT/);
  });

  it('sends nothing when the journal says the last run left the host on this build', async () => {
    expect(await early(ctx(), Promise.resolve({ journal: [ended(sha, 'changed')] }))).to.equal(undefined);
    expect(await early(ctx(), Promise.resolve({ journal: [ended(sha, 'ok')] }))).to.equal(undefined);
    // rolled back, or another build: sent
    const u = await early(ctx(), Promise.resolve({ journal: [ended(sha, 'rolled_back')] }));
    expect(u).not.to.equal(undefined);
    await dropUpload(t, u!);
  });

  it('sends nothing, and leaves no timer behind, when the lock is refused', async () => {
    // the timers it sets and does not clear (a pending one would hold the CLI's exit)
    const pending = new Set<unknown>();
    const { setTimeout: set, clearTimeout: clear } = globalThis;
    globalThis.setTimeout = ((...a: Parameters<typeof set>) => { const h = set(...a); pending.add(h); return h; }) as typeof set;
    globalThis.clearTimeout = ((h: Parameters<typeof clear>[0]) => { pending.delete(h); clear(h); }) as typeof clear;
    try {
      const refused = early(ctx(), Promise.reject(new Error('locked')));
      await refused.then(() => expect.fail('resolved'), (e: Error) => expect(e.message).to.equal('locked'));
    } finally {
      Object.assign(globalThis, { setTimeout: set, clearTimeout: clear });
    }
    expect(pending.size).to.equal(0);
  });

  it('is not called in a plan (the executor\'s policy; the lab plan test sees no file appear), and sends nothing when the directory has no room for the build twice and the margin', async () => {
    expect(POLICY[modeOf({ dryRun: true })].applies).to.equal(false);
    const huge = ctx();
    huge.binaries.set('./nginx', { path: './nginx', sha256: sha, size: 2 ** 52, bytes });
    expect(await early(huge, Promise.resolve({ journal: [] }))).to.equal(undefined);
  });
});
