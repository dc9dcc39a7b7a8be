import { expect } from 'chai';
import { parseResult } from '../../src/transport/openssh.js';

// What the openssh transport reads back from one command: its pid and exit
// status arrive on stderr behind a random marker (see run() in openssh.ts).
describe('openssh: a command\'s result from its marked stderr', () => {
  const head = Buffer.from('__hotswap_0123__ ');
  const err = (text: string) => Buffer.from(text);

  it('reads the status and keeps the program\'s own stderr between the markers', () => {
    expect(parseResult([Buffer.from('out')], err('__hotswap_0123__ 42\nwarning: x\n__hotswap_0123__ 3\n'), head)).to.deep.equal({ stdout: 'out', stderr: 'warning: x\n', code: 3 });
  });

  it('skips what the login shell\'s startup files wrote to stderr before the first marker', () => {
    // as root's .bashrc with pyenv printed it on a busy machine
    const noise = "rm: cannot remove '/root/.pyenv/shims/tmp.x': No such file or directory\npyenv: cannot rehash: /root/.pyenv/shims isn't writable\n";
    expect(parseResult([Buffer.from('0')], err(`${noise}__hotswap_0123__ 4489\n__hotswap_0123__ 0\n`), head)).to.deep.equal({ stdout: '0', stderr: '', code: 0 });
  });

  it('no status (the connection ended): null; a signal (128+N): code null', () => {
    expect(parseResult([], err('__hotswap_0123__ 42\n'), head)).to.equal(null);
    expect(parseResult([], err('no marker at all\n'), head)).to.equal(null);
    expect(parseResult([], err('__hotswap_0123__ 42\n__hotswap_0123__ 137\n'), head)?.code).to.equal(null);
  });
});
