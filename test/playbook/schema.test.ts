import { expect } from 'chai';
import { problemsOf, VALID } from './helpers.js';

describe('playbook schema', () => {
  it('accepts the canonical sequence', () => {
    expect(problemsOf(VALID)).to.deep.equal([]);
  });

  it('points at a misspelt key with a suggestion', () => {
    expect(problemsOf(VALID.replace('  prefix:', '  prefx:'))).to.deep.equal([
      '6:3: nginx: unknown key "prefx" (did you mean "prefix"?)',
      '6:3: nginx: give nginx.prefix (a hand-built nginx, e.g. /usr/local/nginx) or nginx.binary (a packaged one, e.g. /usr/sbin/nginx: its other paths are read from the host)',
    ].sort(byPos));
  });

  it('points at a misspelt step kind, without a second complaint about the missing kind', () => {
    expect(problemsOf(VALID.replace('- copy-binary:', '- copy-binry:'))).to.deep.equal(['9:5: steps[1]: unknown key "copy-binry" (did you mean "copy-binary"?)']);
  });

  it('points at the value for a wrong value', () => {
    expect(problemsOf(VALID.replace('signal: USR2', 'signal: USR3'))).to.deep.equal([
      '10:13: steps[2].signal: expected one of "USR2", "WINCH", "QUIT", "HUP", "TERM", got the string "USR3"',
    ]);
  });

  it('reports a wrong signal inside the long form at the value', () => {
    expect(problemsOf(VALID.replace('signal: QUIT', 'signal: { send: QUITT, to: old-master }'))).to.deep.equal([
      '15:21: steps[7].signal.send: expected one of "USR2", "WINCH", "QUIT", "HUP", "TERM", got the string "QUITT"',
    ]);
  });

  it('lists every error at once, in source order', () => {
    const text = VALID.replace('version: 1', 'version: 2').replace('timeout: 10s', 'timeout: 10 seconds').replace('keep: 3', 'keep: 0');
    expect(problemsOf(text)).to.deep.equal([
      '1:10: version: expected 1, got number 2',
      '8:21: steps[0].backup.keep: must be at least 1, got 0',
      '11:59: steps[3].wait-for-workers.timeout: "10 seconds" is not a duration (expected e.g. 500ms, 10s, 5m, 1h)',
    ]);
  });

  it('requires the top-level keys', () => {
    expect(problemsOf('version: 1\nname: x\n')).to.deep.equal([
      '1:1: missing required key "hosts"',
      '1:1: missing required key "nginx"',
      '1:1: missing required key "steps"',
    ]);
  });

  it('refuses a step with two kinds, naming both', () => {
    expect(problemsOf(VALID.replace('  - signal: USR2\n', '  - signal: USR2\n    verify: {}\n'))).to.deep.equal([
      '11:5: steps[2]: a step has exactly one kind, but this one has "signal" and "verify"; split it into separate steps',
    ]);
  });

  it('refuses a step with no kind', () => {
    expect(problemsOf(VALID.replace('  - signal: USR2\n', '  - name: only a name\n'))).to.deep.equal([
      '10:5: steps[2]: a step needs one of: backup, copy-binary, signal, wait-for-workers, verify',
    ]);
  });

  it('explains a wrong type', () => {
    expect(problemsOf(VALID.replace('hosts:\n  - edge-1', 'hosts: 7'))).to.deep.equal([
      '3:8: hosts: expected a list or a string (The hosts to upgrade: a list of names or host objects, or a host pattern (groups, globs, `!name`) when `inventory` is given), got number 7',
    ]);
  });

  it('checks host objects', () => {
    const text = VALID.replace('  - edge-1', '  - name: edge-1\n    adress: 10.0.0.1\n    port: 70000');
    expect(problemsOf(text)).to.deep.equal([
      '5:5: hosts[0]: unknown key "adress" (did you mean "address"?)',
      '6:11: hosts[0].port: must be at most 65535, got 70000',
    ]);
  });

  it('checks sha256 and percentages', () => {
    const text = VALID.replace('src: ./nginx', 'src: ./nginx, sha256: abc').replace('nginx:\n', 'strategy: { serial: [1, "x%"] }\nnginx:\n');
    expect(problemsOf(text)).to.deep.equal([
      '5:25: strategy.serial[1]: "x%" is not a percentage (expected e.g. "25%")',
      '10:42: steps[1].copy-binary.sha256: "abc" is not a sha256 (expected 64 lowercase hex digits)',
    ]);
  });
});

function byPos(a: string, b: string) {
  const [la, ca] = a.split(':').map(Number);
  const [lb, cb] = b.split(':').map(Number);
  return la - lb || ca - cb;
}
