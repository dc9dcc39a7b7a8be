import { expect } from 'chai';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendJournal, journalLine, journalPath, parseJournal } from '../../src/run/journal.js';
import { LockHeld, lockPath, ownerFor, releaseLock, takeLock } from '../../src/run/lock.js';
import { LocalTransport } from '../../src/transport/local.js';
import type { NginxPaths } from '../../src/playbook/resolved.js';

// The lock and journal scripts, run for real by sh on this machine.
describe('host lock and journal', () => {
  let dir: string;
  let n: NginxPaths;
  const t = new LocalTransport('local');
  const entry = (run: string, i: number) => ({ run, host: 'h', event: 'action' as const, phase: 'clean' as const, state: { oldPid: i, target: '/x', oldSha: 'a', newSha: 'b' } });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hotswap-lock-'));
    n = { prefix: dir, binary: join(dir, 'nginx'), pid_file: join(dir, 'nginx.pid'), conf: join(dir, 'nginx.conf'), error_log: join(dir, 'error.log') };
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('takes the lock, returns the journal tail, and refuses a second taker', async () => {
    await appendJournal(t, n, entry('old', 1));
    const taken = await takeLock(t, n, ownerFor('r1', 'apply'), false);
    expect(taken.journal.map((e) => e.run)).to.deep.equal(['old']);
    const err = await takeLock(t, n, ownerFor('r2', 'apply'), false).catch((e: Error) => e);
    expect(err).to.be.instanceOf(LockHeld);
    expect((err as LockHeld).owner.run).to.equal('r1');
  });

  it('keeps the journal to its last 2000 lines once it passes 4000, when a lock is taken', async () => {
    const lines = Array.from({ length: 4001 }, (_, i) => journalLine(entry('old', i)));
    await writeFile(journalPath(n), `${lines.join('\n')}\n`);
    const taken = await takeLock(t, n, ownerFor('r1', 'apply'), false);
    const kept = parseJournal(await readFile(journalPath(n), 'utf8'));
    expect(kept).to.have.length(2000);
    expect(kept[kept.length - 1]!.state.oldPid).to.equal(4000);
    expect(taken.journal).to.have.length(400);
  });

  it('writes the closing line and releases in one call, and never releases a lock another run holds', async () => {
    await takeLock(t, n, ownerFor('r1', 'apply'), false);
    await releaseLock(t, n, 'r2', journalLine({ ...entry('r2', 7), event: 'end' }));
    expect((await stat(lockPath(n))).isDirectory()).to.equal(true);
    await releaseLock(t, n, 'r1', journalLine({ ...entry('r1', 8), event: 'end', result: 'changed' }));
    expect(await stat(lockPath(n)).catch(() => null)).to.equal(null);
    const journal = parseJournal(await readFile(journalPath(n), 'utf8'));
    expect(journal.map((e) => [e.run, e.event])).to.deep.equal([['r2', 'end'], ['r1', 'end']]);
  });
});
