import { expect } from 'chai';
import { escapeStrings, jsonText, oneLine, terminalMessage, textBlock } from '../../src/report/terminal-text.js';
import { ESCAPED_PARTS, HOSTILE, rawControl } from './hostile.js';

describe('terminal text', () => {
  it('leaves ordinary text alone: paths, quotes, UTF-8, backslashes', () => {
    const s = 'nginx: [emerg] unknown directive "foo" in /etc/nginx/ngïnx.conf:12 — ünïcode ✓ C:\\x';
    expect(oneLine(s)).to.equal(s);
  });

  it('writes every control character of a one-line field as an escape', () => {
    const out = oneLine(HOSTILE);
    expect(rawControl(out)).to.equal(undefined);
    expect(out).not.to.include('\n');
    for (const part of ESCAPED_PARTS) expect(out).to.include(part);
    expect(oneLine('\x1b[31mred\x1b[0m')).to.equal('\\x1b[31mred\\x1b[0m');
    expect(oneLine('a\r\nb')).to.equal('a\\r\\nb');
    expect(oneLine('\u009b\u00a0')).to.equal('\\x9b\u00a0');
  });

  it('is the same when applied twice (reporters may meet text escaped already)', () => {
    expect(oneLine(oneLine(HOSTILE))).to.equal(oneLine(HOSTILE));
  });

  it('puts each line of a block behind a prefix, escaped, so none passes for a line of ours', () => {
    const lines = textBlock('nginx: the configuration file ok\r\n\x1b[2J[lab-2] changed\nlast\n');
    expect(lines).to.deep.equal(['  | nginx: the configuration file ok', '  | \\x1b[2J[lab-2] changed', '  | last']);
    expect(textBlock('a\rb', '    > ')).to.deep.equal(['    > a\\rb']);
  });

  it('prints a message as its first line, then the rest as a block under it', () => {
    expect(terminalMessage('cannot read it\n\x1b]52;c;x\x07\n[lab-2] changed')).to.equal('cannot read it\n  | \\x1b]52;c;x\\x07\n  | [lab-2] changed');
    expect(terminalMessage('one line \x9b')).to.equal('one line \\x9b');
  });

  it('escapes every string of a record, keeping its shape and other values', () => {
    const rec = { host: 'lab-1', pid: 7, ok: true, none: undefined, lock: 'run \x1b[2J', list: [{ path: '/x\n/y' }] };
    expect(escapeStrings(rec)).to.deep.equal({ host: 'lab-1', pid: 7, ok: true, none: undefined, lock: 'run \\x1b[2J', list: [{ path: '/x\\n/y' }] });
  });

  it('writes JSON that reads back the same and holds no raw control character (JSON.stringify leaves C1, bidi and U+2028 raw)', () => {
    const value = { message: HOSTILE, list: [HOSTILE], n: 1 };
    expect(rawControl(JSON.stringify(value)), 'JSON.stringify alone').not.to.equal(undefined);
    for (const space of [undefined, 2]) {
      const out = jsonText(value, space);
      expect(rawControl(out)).to.equal(undefined);
      expect(JSON.parse(out)).to.deep.equal(value);
    }
    expect(jsonText('\u009b\u2028')).to.equal('"\\u009b\\u2028"');
  });
});
