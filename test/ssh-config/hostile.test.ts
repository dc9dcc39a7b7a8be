// ssh.config_file pointing at things that are not a config: each is one error
// naming the file (and the Include line that reached it), never a hang.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadSshConfig } from '../../src/ssh-config/load.js';

describe('ssh config files on hostile input', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hotswap-sshcfg-hostile-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const load = (file: string) => loadSshConfig([{ file, includeBase: dir, required: true }], dir);
  const quickly = (fn: () => unknown) => {
    const t0 = Date.now();
    expect(fn).to.throw();
    expect(Date.now() - t0, 'ms').to.be.below(2000);
    try {
      fn();
    } catch (e) {
      return (e as Error).message;
    }
    return '';
  };

  it('/dev/null (ssh -F /dev/null: no config) reads as an empty config, also through a symlink', () => {
    symlinkSync('/dev/null', join(dir, 'null'));
    for (const f of ['/dev/null', join(dir, 'null')]) expect(() => load(f), f).not.to.throw();
  });

  it('a FIFO, /dev/zero (also through a symlink) and a directory are refused without reading them', () => {
    // a FIFO would block the read forever; /dev/zero never ends
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    symlinkSync('/dev/zero', join(dir, 'zero'));
    expect(quickly(() => load(join(dir, 'fifo')))).to.equal(`cannot read ssh config ${join(dir, 'fifo')}: is not a regular file`);
    expect(quickly(() => load('/dev/zero'))).to.equal('cannot read ssh config /dev/zero: is not a regular file');
    expect(quickly(() => load(join(dir, 'zero')))).to.equal(`cannot read ssh config ${join(dir, 'zero')}: is not a regular file`);
    expect(quickly(() => load(dir))).to.equal(`cannot read ssh config ${dir}: is a directory`);
    writeFileSync(join(dir, 'inc-fifo'), `Host *\n  Include ${join(dir, 'fifo')}\n`);
    expect(quickly(() => load(join(dir, 'inc-fifo')))).to.equal(`${join(dir, 'inc-fifo')}:2: cannot read ssh config ${join(dir, 'fifo')}: is not a regular file`);
  });

  it('an Include glob matching 3000 files stops at 1000 files, at the Include line', () => {
    mkdirSync(join(dir, 'many.d'));
    for (let i = 0; i < 3000; i++) writeFileSync(join(dir, 'many.d', `f${String(i).padStart(4, '0')}`), `Host h${i}\n`);
    writeFileSync(join(dir, 'many'), 'Include many.d/*\n');
    expect(quickly(() => load(join(dir, 'many')))).to.match(/many:1: cannot read ssh config .*f0999: more than 1000 files in all through Include; hotswap reads at most that many$/);
  });
});
