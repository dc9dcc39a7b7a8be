import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyConfigTest, needsMasterCwd } from '../../src/steps/config-test.js';
import { checkStaged, RemoteError } from '../../src/steps/file-ops.js';
import { LocalTransport } from '../../src/transport/local.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/nginx-t/${name}.txt`, import.meta.url), 'utf8');

// Output of Debian's nginx 1.22.1 `-t`, captured on this kind of machine (root, and `nobody` for the denials).
describe('a failed nginx -t, classified', () => {
  const cases: [string, string, RegExp][] = [
    ['missing-conf', 'missing', /cannot find \/nonexistent\/nginx\.conf \(no such file or directory\)/],
    ['missing-include', 'missing', /cannot find \/tmp\/ct\/missing\.conf/],
    ['permission-conf', 'permission', /cannot open \/tmp\/ct\/b\.conf \(permission denied\).*become: sudo/],
    ['permission-pid', 'permission', /cannot open \/run\/nginx\.pid \(permission denied\)/],
    ['unknown-directive', 'rejected', /the new build rejects the running config \(nginx -t\): .*unknown directive "bogus" in \/tmp\/ct\/b\.conf:2/],
  ];
  for (const [name, kind, message] of cases) {
    it(`${name}: ${kind}`, () => {
      const r = classifyConfigTest(fixture(name));
      expect(r.kind).to.equal(kind);
      expect(r.message).to.match(message);
    });
  }

  it('reads the lines as sh() joins them ("; ")', () => {
    expect(classifyConfigTest(fixture('missing-conf').trim().split('\n').join('; ')).kind).to.equal('missing');
  });

  it('needs the master\'s working directory only for a relative -p', () => {
    expect(needsMasterCwd({ prefix: '/usr/share/nginx/' })).to.equal(false);
    expect(needsMasterCwd({})).to.equal(false);
    expect(needsMasterCwd({ prefix: 'run/nginx/' })).to.equal(true);
  });
});

// The staged check script, run for real by sh with Debian's nginx build on this machine.
describe('the staged check tells its failures apart', () => {
  const build = new URL('../../.lab/builds/new/usr/sbin/nginx', import.meta.url).pathname;
  const t = new LocalTransport('local');
  let dir: string;
  let staged: string;
  let sha: string;

  before(function () {
    if (!existsSync(build)) throw new Error(`no nginx build at ${build}: run npm test (its pretest fetches the lab's builds) or node dist/lab/setup.js`);
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hotswap-check-'));
    staged = join(dir, '.nginx.staged');
    await copyFile(build, staged);
    sha = createHash('sha256').update(readFileSync(staged)).digest('hex');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const fail = (cwd: string, args: string[]) => checkStaged(t, staged, sha, null, null, { cwd, args }).then(() => null, (e: unknown) => e as RemoteError);

  it('a working directory that cannot be entered is exit 13, not a config rejection', async () => {
    const err = await fail(join(dir, 'gone'), ['-p', 'rel/', '-c', '/nonexistent.conf']);
    expect(err).to.be.instanceOf(RemoteError);
    expect(err!.code).to.equal(13);
    expect(err!.message).to.match(/the login \S+ cannot enter .*gone/);
  });

  it('a missing config file is exit 12 and classified as missing', async () => {
    const err = await fail('/', ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf')]);
    expect(err!.code).to.equal(12);
    expect(classifyConfigTest(err!.message).kind).to.equal('missing');
  });

  it('a config nginx rejects is exit 12 and classified as rejected', async () => {
    await writeFile(join(dir, 'nginx.conf'), 'events {}\nhttp { bogus on; }\n');
    const err = await fail('/', ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf')]);
    expect(err!.code).to.equal(12);
    expect(classifyConfigTest(err!.message)).to.include({ kind: 'rejected' });
  });

  it('a build that cannot be executed is exit 14', async () => {
    await writeFile(staged, 'not a program');
    sha = createHash('sha256').update('not a program').digest('hex');
    const err = await fail('/', ['-p', `${dir}/`]);
    expect(err!.code).to.equal(14);
    expect(err!.message).to.match(/cannot run/);
  });
});
