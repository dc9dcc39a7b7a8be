import { expect } from 'chai';
import type { RunEvent } from '../../src/run/events.js';
import type { HostFacts } from '../../src/nginx/facts.js';
import { RunRecord } from '../../src/report/record.js';
import { jsonLine } from '../../src/report/json-lines.js';

const summary = { ok: 0, changed: 1, failed: 0, rolled_back: 1, unreachable: 0, refused: 0, skipped: 1, rollback_failed: 0, planned: 0 };
const EVENTS: RunEvent[] = [
  { type: 'run-start', name: 'up', dryRun: false, hosts: ['a', 'b', 'c'], batches: [['a'], ['b'], ['c']], concurrency: 2, maxFailPercentage: 0 },
  { type: 'batch-start', batch: 1, hosts: ['a'] },
  { type: 'host-start', host: 'a', batch: 1, steps: ['backup', 'verify'] },
  { type: 'host-facts', host: 'a', facts: { master: { pid: 10 } } as HostFacts, connectMs: 5, factsMs: 7 },
  { type: 'action', host: 'a', step: -1, description: 'pre-flight: read the pid file', changes: false, withheld: false },
  { type: 'step-start', host: 'a', step: 0, label: 'backup' },
  { type: 'action', host: 'a', step: 0, description: 'copy the binary to x.bak', changes: true, withheld: false },
  { type: 'step-end', host: 'a', step: 0, label: 'backup', result: 'changed', ms: 12 },
  { type: 'step-start', host: 'a', step: 1, label: 'verify' },
  { type: 'step-end', host: 'a', step: 1, label: 'verify', result: 'failed', ms: 30, message: 'status 404' },
  { type: 'rollback-start', host: 'a', phase: 'winch', reason: 'verify: status 404' },
  { type: 'action', host: 'a', step: 1, description: 'send HUP -> 10', changes: true, withheld: false },
  { type: 'rollback-end', host: 'a', ok: true, ms: 40, message: 'old build serving' },
  { type: 'host-facts', host: 'a', facts: { master: { pid: 10 } } as HostFacts, connectMs: 0, factsMs: 3, when: 'after' },
  { type: 'host-end', host: 'a', result: 'rolled_back', ms: 100, message: 'verify: status 404; rolled back' },
  { type: 'batch-end', batch: 1, failed: 1, total: 1, halted: true, maxFailPercentage: 0 },
  { type: 'batch-skipped', batch: 2, hosts: ['b'], reason: 'the rollout was halted' },
  { type: 'recap', hosts: [{ host: 'a', batch: 1, result: 'rolled_back', ms: 100 }, { host: 'b', batch: 2, result: 'skipped', ms: 0 }, { host: 'c', batch: 3, result: 'changed', ms: 9 }] },
  { type: 'run-end', exitCode: 4, ms: 150, summary, halted: true, haltReason: 'batch 1: 1 of 1 host failed' },
];

describe('the run record (--report)', () => {
  const record = new RunRecord();
  record.settings = { playbook: '/p/fleet.yaml', strategy: { serial: 1, concurrency: 2, max_fail_percentage: 0 }, binaries: [{ src: './nginx', path: '/p/nginx', sha256: 'ab' }] };
  for (const e of EVENTS) record.on(e);
  const doc = JSON.parse(JSON.stringify(record));

  it('says what ran, how it ended and why it halted', () => {
    expect(doc).to.include({ name: 'up', dryRun: false, playbook: '/p/fleet.yaml', exitCode: 4, ms: 150, halted: true, haltReason: 'batch 1: 1 of 1 host failed' });
    expect(doc.strategy).to.deep.equal({ serial: 1, concurrency: 2, max_fail_percentage: 0 });
    expect(doc.binaries).to.deep.equal([{ src: './nginx', path: '/p/nginx', sha256: 'ab' }]);
    expect(doc.summary).to.deep.equal(summary);
    expect(doc.batches).to.deep.equal([['a'], ['b'], ['c']]);
    expect(doc.started).to.match(/^\d{4}-\d\d-\d\dT/);
    expect(doc.finished).to.match(/^\d{4}-\d\d-\d\dT/);
  });

  it('keeps every host in batch order, the ones never started too', () => {
    expect(doc.hosts.map((h: { host: string; batch: number; result: string }) => [h.host, h.batch, h.result])).to.deep.equal([
      ['a', 1, 'rolled_back'],
      ['b', 2, 'skipped'],
      ['c', 3, 'changed'],
    ]);
    expect(doc.hosts[1].message).to.equal('not started: the rollout was halted');
  });

  it('has per host the facts before and after, each step with result, timing and actions, and the rollback', () => {
    const a = doc.hosts[0];
    expect(a).to.include({ result: 'rolled_back', ms: 100, connectMs: 5, factsMs: 7, message: 'verify: status 404; rolled back' });
    expect(a.facts).to.deep.equal({ before: { master: { pid: 10 } }, after: { master: { pid: 10 } } });
    expect(a.actions).to.deep.equal([{ description: 'pre-flight: read the pid file', changes: false, withheld: false }]);
    expect(a.steps).to.have.length(2);
    expect(a.steps[0]).to.deep.include({ label: 'backup', result: 'changed', ms: 12, actions: [{ description: 'copy the binary to x.bak', changes: true, withheld: false }] });
    expect(a.steps[0].started).to.match(/^\d{4}-/);
    expect(a.steps[1]).to.deep.include({ label: 'verify', result: 'failed', ms: 30, message: 'status 404', actions: [] });
    expect(a.rollback).to.deep.include({ phase: 'winch', reason: 'verify: status 404', ok: true, ms: 40, message: 'old build serving' });
    expect(a.rollback.actions).to.deep.equal([{ description: 'send HUP -> 10', changes: true, withheld: false }]);
  });
});

describe('--json lines', () => {
  it('is one JSON object per event: a timestamp, then the event as it is', () => {
    for (const e of EVENTS) {
      const line = jsonLine(e);
      expect(line).not.to.include('\n');
      const parsed = JSON.parse(line);
      expect(Object.keys(parsed)[0]).to.equal('ts');
      expect(Date.parse(parsed.ts)).to.be.a('number').and.not.NaN;
      const { ts: _ts, ...rest } = parsed;
      expect(rest).to.deep.equal(JSON.parse(JSON.stringify(e)));
    }
  });
});
