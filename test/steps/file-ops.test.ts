import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupFile, RemoteError } from '../../src/steps/file-ops.js';
import { LocalTransport } from '../../src/transport/local.js';

// The backup script, run for real by sh on this machine.
describe('backup copy and pruning', () => {
  let dir: string;
  const t = new LocalTransport('local');
  const sha = (b: string) => createHash('sha256').update(b).digest('hex');

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hotswap-backup-'));
    await writeFile(join(dir, 'nginx'), 'old build');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('keeps the newest backups hotswap named and nothing else is touched', async () => {
    const ours = ['20261101T000000Z', '20261102T000000Z', '20261103T000000Z', '20261104T000000Z'].map((s) => `nginx.${s}.bak`);
    const others = ['nginx.old.bak', 'nginx.20261101T000000Z.bak.txt', 'nginx2.20261101T000000Z.bak', 'nginx.2026110T000000Z.bak'];
    for (const f of [...ours, ...others]) await writeFile(join(dir, f), 'x');
    const dest = join(dir, 'nginx.20261121T120000Z.bak');
    const pruned = await backupFile(t, join(dir, 'nginx'), dest, sha('old build'), { dir, base: 'nginx', keep: 3 });
    expect(pruned).to.deep.equal(ours.slice(0, 2).map((f) => join(dir, f)));
    expect(await readFile(dest, 'utf8')).to.equal('old build');
    expect((await readdir(dir)).sort()).to.deep.equal(['nginx', ...ours.slice(2), 'nginx.20261121T120000Z.bak', ...others].sort());
  });

  it('refuses a copy whose sha256 is not the one expected, and leaves no file behind', async () => {
    const err = await backupFile(t, join(dir, 'nginx'), join(dir, 'b.bak'), sha('another build'), { dir, base: 'nginx', keep: 3 }).catch((e: Error) => e);
    expect(err).to.be.instanceOf(RemoteError);
    expect((err as Error).message).to.match(/the backup copy has sha256 [0-9a-f]{64}, expected/);
    expect(await readdir(dir)).to.deep.equal(['nginx']);
  });
});
