import { expect } from 'chai';
import { recapLines } from '../../src/report/recap.js';
import { formatDuration } from '../../src/playbook/duration.js';

describe('the recap', () => {
  it("prints SPEC.md's line per host with its duration, then the totals", () => {
    const lines = recapLines(
      [
        { host: 'edge-1', result: 'changed', ms: 1234, message: 'now running sha256 3f1c' },
        { host: 'edge-2', result: 'ok', ms: 80, message: 'already running sha256 3f1c' },
      ],
      65_000,
    );
    expect(lines).to.deep.equal([
      'edge-1  ok=0 changed=1 failed=0 rolled_back=0 unreachable=0 skipped=0  1.2s',
      'edge-2  ok=1 changed=0 failed=0 rolled_back=0 unreachable=0 skipped=0  80ms',
      'total   ok=1 changed=1 failed=0 rolled_back=0 unreachable=0 skipped=0  1m5s',
    ]);
  });

  it("says why a host failed, was refused, rolled back, unreachable or skipped, on the host's line", () => {
    const lines = recapLines(
      [
        { host: 'a', result: 'rolled_back', ms: 2000, message: 'verify: GET /healthz: status 404; rolled back: old build serving' },
        { host: 'b', result: 'refused', ms: 10, message: 'an upgrade is in progress (.oldbin exists)' },
        { host: 'c', result: 'failed', ms: 10, message: 'facts script failed\n  exit 2' },
        { host: 'd', result: 'rollback_failed', ms: 10, message: 'ROLLBACK FAILED: a person must check d now' },
        { host: 'e', result: 'unreachable', ms: 10, message: 'e (127.0.0.1:1): connection refused' },
        { host: 'f', result: 'skipped', ms: 0, message: 'not started: the rollout was halted' },
      ],
      3000,
    );
    expect(lines[0]).to.equal('a      ok=0 changed=0 failed=0 rolled_back=1 unreachable=0 skipped=0  2.0s  rolled_back: verify: GET /healthz: status 404; rolled back: old build serving');
    expect(lines[1]).to.match(/^b +ok=0 changed=0 failed=1 rolled_back=0 unreachable=0 skipped=0  10ms  refused: an upgrade is in progress/);
    expect(lines[2]).to.match(/failed=1 .*  failed: facts script failed exit 2$/);
    expect(lines[3]).to.match(/failed=1 .*  rollback_failed: ROLLBACK FAILED: a person must check d now$/);
    expect(lines[4]).to.match(/unreachable=1 .*  unreachable: e \(127\.0\.0\.1:1\): connection refused$/);
    expect(lines[5]).to.match(/skipped=1  0ms  skipped: not started: the rollout was halted$/);
    expect(lines[6]).to.equal('total  ok=0 changed=0 failed=3 rolled_back=1 unreachable=1 skipped=1  3.0s');
    expect(lines).to.have.length(7);
  });

  it('aligns the counts whatever the length of the names', () => {
    const lines = recapLines([{ host: 'x', result: 'ok', ms: 1 }, { host: 'a-much-longer-name', result: 'changed', ms: 1 }], 1);
    expect(new Set(lines.map((l) => l.indexOf('ok=')))).to.have.length(1);
  });
});

describe('formatDuration', () => {
  it('reads well from milliseconds to hours, never "1m60s"', () => {
    expect(formatDuration(0)).to.equal('0ms');
    expect(formatDuration(999.7)).to.equal('1.0s');
    expect(formatDuration(1234)).to.equal('1.2s');
    expect(formatDuration(59_960)).to.equal('1m0s');
    expect(formatDuration(119_600)).to.equal('2m0s');
    expect(formatDuration(3_723_000)).to.equal('1h2m3s');
  });
});
