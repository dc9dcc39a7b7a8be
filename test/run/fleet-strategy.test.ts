// runFleet's strategy with a fake runHost: batches, threshold, concurrency,
// pause, interrupt and the exit code. No host, no network, no timer.
import { expect } from 'chai';
import { Exit, worstExit } from '../../src/errors.js';
import { Events, type HostResult, type RunEvent } from '../../src/run/events.js';
import { runFleet, type FleetOptions, type HostOutcome } from '../../src/run/fleet.js';
import type { ResolvedHost } from '../../src/playbook/resolved.js';
import type { Playbook } from '../../src/playbook/schema.js';

const hostsOf = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `h${i + 1}` }) as ResolvedHost);
const tick = () => new Promise<void>((r) => setImmediate(r));

interface Fake {
  started: string[];
  inFlight: number;
  maxInFlight: number;
  events: RunEvent[];
}

/** Runs the fleet with results by host name (default changed); every fake host yields a few times. */
async function fleetRun(strategy: Playbook['strategy'], n: number, results: Record<string, HostResult> = {}, opts: Partial<FleetOptions> & { during?: (host: string) => void } = {}) {
  const fake: Fake = { started: [], inFlight: 0, maxInFlight: 0, events: [] };
  const events = new Events();
  events.on((e) => fake.events.push(e));
  const outcome = await runFleet(
    { strategy } as Playbook,
    hostsOf(n),
    { events, confirm: async () => true, sleep: async () => undefined, ...opts },
    async (h, batch): Promise<HostOutcome> => {
      fake.started.push(h.name);
      fake.inFlight++;
      fake.maxInFlight = Math.max(fake.maxInFlight, fake.inFlight);
      events.emit({ type: 'host-start', host: h.name, batch, steps: [] });
      for (let i = 0; i < 3; i++) await tick();
      opts.during?.(h.name);
      fake.inFlight--;
      const result = results[h.name] ?? 'changed';
      return { host: h.name, result, ms: 1, message: result === 'changed' ? undefined : `${h.name} ${result}` };
    },
  );
  return { outcome, fake };
}

const resultOf = (o: { hosts: HostOutcome[] }) => Object.fromEntries(o.hosts.map((h) => [h.host, h.result]));

describe('runFleet: the rollout strategy', () => {
  it('runs batches in order and reports each host with its batch', async () => {
    const { outcome, fake } = await fleetRun({ serial: [1, 2] }, 5);
    expect(fake.started).to.deep.equal(['h1', 'h2', 'h3', 'h4', 'h5']);
    expect(outcome.hosts.map((h) => [h.host, h.batch])).to.deep.equal([['h1', 1], ['h2', 2], ['h3', 2], ['h4', 3], ['h5', 3]]);
    expect(outcome.exitCode).to.equal(Exit.ok);
    expect(outcome.halted).to.equal(false);
    expect(fake.events.filter((e) => e.type === 'batch-start').map((e) => (e as { batch: number }).batch)).to.deep.equal([1, 2, 3]);
  });

  it('threshold 0: a failing host in batch 2 halts the rollout; batch 3 is never started (exit 4)', async () => {
    const { outcome, fake } = await fleetRun({ serial: [1, 2], max_fail_percentage: 0 }, 6, { h3: 'rolled_back' });
    expect(fake.started).to.deep.equal(['h1', 'h2', 'h3']);
    expect(resultOf(outcome)).to.deep.equal({ h1: 'changed', h2: 'changed', h3: 'rolled_back', h4: 'skipped', h5: 'skipped', h6: 'skipped' });
    expect(outcome.halted).to.equal(true);
    expect(outcome.haltReason).to.match(/batch 2: 1 of 2 hosts failed, above max_fail_percentage 0%/);
    expect(outcome.hosts.find((h) => h.host === 'h4')!.message).to.match(/not started: the rollout was halted/);
    expect(outcome.exitCode).to.equal(Exit.refused);
    const skipped = fake.events.filter((e) => e.type === 'batch-skipped');
    expect(skipped.map((e) => e.type === 'batch-skipped' && [e.batch, e.hosts])).to.deep.equal([[3, ['h4', 'h5']], [4, ['h6']]]);
    const end2 = fake.events.find((e) => e.type === 'batch-end' && e.batch === 2);
    expect(end2).to.include({ failed: 1, total: 2, halted: true });
  });

  it('threshold 50: the same failure goes on (exit 1)', async () => {
    const { outcome, fake } = await fleetRun({ serial: [1, 2], max_fail_percentage: 50 }, 6, { h3: 'rolled_back' });
    expect(fake.started).to.have.length(6);
    expect(outcome.halted).to.equal(false);
    expect(outcome.exitCode).to.equal(Exit.failed);
  });

  it('exactly at the threshold goes on ("above" halts), one over halts', async () => {
    const at = await fleetRun({ serial: 4, max_fail_percentage: 50 }, 8, { h1: 'failed', h2: 'failed' });
    expect(at.fake.started).to.have.length(8);
    expect(at.outcome.halted).to.equal(false);
    const over = await fleetRun({ serial: 4, max_fail_percentage: 50 }, 8, { h1: 'failed', h2: 'failed', h3: 'failed' });
    expect(over.fake.started).to.deep.equal(['h1', 'h2', 'h3', 'h4']);
    expect(over.outcome.halted).to.equal(true);
    // 1 of 3 is 33.3%: above 33, not above 34
    expect((await fleetRun({ serial: 3, max_fail_percentage: 33 }, 6, { h1: 'failed' })).outcome.halted).to.equal(true);
    expect((await fleetRun({ serial: 3, max_fail_percentage: 34 }, 6, { h1: 'failed' })).outcome.halted).to.equal(false);
  });

  it('halts after a failed rollback whatever the threshold: a person is needed', async () => {
    const { outcome, fake } = await fleetRun({ serial: [1, 2], max_fail_percentage: 100 }, 5, { h2: 'rollback_failed' });
    expect(fake.started).to.deep.equal(['h1', 'h2', 'h3']);
    expect(outcome.haltReason).to.equal('batch 2: the rollback failed on h2: a person is needed before going on');
    expect(outcome.exitCode).to.equal(5);
  });

  it('defaults to threshold 0', async () => {
    const { outcome, fake } = await fleetRun({ serial: 1 }, 3, { h1: 'failed' });
    expect(fake.started).to.deep.equal(['h1']);
    expect(outcome.halted).to.equal(true);
  });

  for (const result of ['unreachable', 'refused', 'failed', 'rolled_back', 'rollback_failed'] as HostResult[]) {
    it(`counts ${result} as a failure of its batch`, async () => {
      const { outcome, fake } = await fleetRun({ serial: 1, max_fail_percentage: 0 }, 3, { h1: result });
      expect(fake.started).to.deep.equal(['h1']);
      expect(outcome.halted).to.equal(true);
    });
  }

  for (const result of ['ok', 'changed', 'planned'] as HostResult[]) {
    it(`does not count ${result} as a failure`, async () => {
      const { outcome, fake } = await fleetRun({ serial: 1, max_fail_percentage: 0 }, 3, { h1: result });
      expect(fake.started).to.have.length(3);
      expect(outcome.halted).to.equal(false);
    });
  }

  it('does not report "halted" when the last batch fails: nothing was left to stop', async () => {
    const { outcome, fake } = await fleetRun({ serial: 2, max_fail_percentage: 0 }, 4, { h4: 'rolled_back' });
    expect(fake.started).to.have.length(4);
    expect(outcome.halted).to.equal(false);
    expect(outcome.exitCode).to.equal(Exit.failed);
    expect(fake.events.find((e) => e.type === 'batch-end' && e.batch === 2)).to.include({ halted: false, failed: 1 });
  });

  it('an unreachable host does not keep the others of its batch from running (exit 3)', async () => {
    const { outcome, fake } = await fleetRun({ concurrency: 1 }, 4, { h1: 'unreachable' });
    expect(fake.started).to.deep.equal(['h1', 'h2', 'h3', 'h4']);
    expect(resultOf(outcome)).to.deep.equal({ h1: 'unreachable', h2: 'changed', h3: 'changed', h4: 'changed' });
    expect(outcome.exitCode).to.equal(Exit.unreachable);
  });

  it('bounds the hosts in flight by strategy.concurrency, and fills it', async () => {
    const { fake } = await fleetRun({ concurrency: 3 }, 10);
    expect(fake.maxInFlight).to.equal(3);
    expect(fake.started).to.have.length(10);
  });

  it('lets --concurrency override strategy.concurrency', async () => {
    expect((await fleetRun({ concurrency: 3 }, 10, {}, { concurrency: 1 })).fake.maxInFlight).to.equal(1);
    expect((await fleetRun({ concurrency: 3 }, 10, {}, { concurrency: 10 })).fake.maxInFlight).to.equal(10);
  });

  it('never has more in flight than the batch, and defaults to 20', async () => {
    expect((await fleetRun({ serial: 2, concurrency: 5 }, 6)).fake.maxInFlight).to.equal(2);
    expect((await fleetRun({}, 30)).fake.maxInFlight).to.equal(20);
  });

  it('starts no new host once stopping() is true; the rest are skipped and the exit is 130', async () => {
    let stop = false;
    const { outcome, fake } = await fleetRun({ serial: 3, concurrency: 1 }, 6, {}, { stopping: () => stop, during: (h) => h === 'h2' && (stop = true) });
    expect(fake.started).to.deep.equal(['h1', 'h2']);
    expect(resultOf(outcome)).to.deep.equal({ h1: 'changed', h2: 'changed', h3: 'skipped', h4: 'skipped', h5: 'skipped', h6: 'skipped' });
    expect(outcome.interrupted).to.equal(true);
    expect(outcome.halted).to.equal(false);
    expect(outcome.exitCode).to.equal(Exit.interrupted);
    expect(fake.events.filter((e) => e.type === 'batch-skipped')).to.have.length(1);
  });

  it('lets the hosts in flight finish when interrupted', async () => {
    let stop = false;
    const { outcome, fake } = await fleetRun({ concurrency: 3 }, 6, {}, { stopping: () => stop, during: (h) => h === 'h1' && (stop = true) });
    expect(fake.started).to.deep.equal(['h1', 'h2', 'h3']);
    expect(outcome.hosts.filter((h) => h.result === 'changed').map((h) => h.host)).to.deep.equal(['h1', 'h2', 'h3']);
  });

  it('a host whose run throws fails alone; its batch goes on', async () => {
    const events = new Events();
    const seen: RunEvent[] = [];
    events.on((e) => seen.push(e));
    const outcome = await runFleet({ strategy: { max_fail_percentage: 100 } } as Playbook, hostsOf(3), { events, confirm: async () => true }, async (h) => {
      if (h.name === 'h2') throw new Error('boom');
      return { host: h.name, result: 'changed', ms: 1 };
    });
    expect(resultOf(outcome)).to.deep.equal({ h1: 'changed', h2: 'failed', h3: 'changed' });
    expect(outcome.hosts[1].message).to.match(/internal error: boom/);
    expect(seen.find((e) => e.type === 'host-end')).to.include({ host: 'h2', result: 'failed' });
  });

  describe('pause between batches', () => {
    it('waits the duration between batches, not before the first nor after the last', async () => {
      const slept: number[] = [];
      const { fake } = await fleetRun({ serial: 1, pause: '1.5s' }, 3, {}, { sleep: async (ms) => void slept.push(ms) });
      expect(slept).to.deep.equal([1500, 1500]);
      expect(fake.started).to.have.length(3);
    });

    it('asks with `confirm`; a no halts (exit 4) with the later batches untouched', async () => {
      const asked: string[] = [];
      const { outcome, fake } = await fleetRun({ serial: 1, pause: 'confirm' }, 3, {}, { confirm: async (q) => (asked.push(q), false) });
      expect(asked).to.deep.equal(['batch 1 done; start batch 2?']);
      expect(fake.started).to.deep.equal(['h1']);
      expect(outcome.halted).to.equal(true);
      expect(outcome.haltReason).to.match(/declined to start batch 2/);
      expect(outcome.exitCode).to.equal(Exit.refused);
    });

    it('takes a refused confirmation (no terminal) as a halt, not a crash', async () => {
      const { outcome, fake } = await fleetRun({ serial: 1, pause: 'confirm' }, 3, {}, {
        confirm: async () => {
          throw new Error('no terminal to ask on: refusing (pass --yes to confirm)');
        },
      });
      expect(fake.started).to.deep.equal(['h1']);
      expect(outcome.haltReason).to.match(/no terminal to ask on/);
      expect(outcome.exitCode).to.equal(Exit.refused);
    });

    it('starts nothing more when interrupted during the pause', async () => {
      let stop = false;
      const { outcome, fake } = await fleetRun({ serial: 1, pause: '5m' }, 3, {}, { stopping: () => stop, sleep: async () => void (stop = true) });
      expect(fake.started).to.deep.equal(['h1']);
      expect(outcome.exitCode).to.equal(Exit.interrupted);
    });
  });

  describe('exit code precedence: 5, 130, 4, 3, 1, 0', () => {
    it('orders the codes', () => {
      expect(worstExit([0, 1, 3, 4, 130, 5])).to.equal(5);
      expect(worstExit([0, 1, 3, 4, 130])).to.equal(130);
      expect(worstExit([0, 1, 3, 4])).to.equal(4);
      expect(worstExit([0, 1, 3])).to.equal(3);
      expect(worstExit([0, 1])).to.equal(1);
      expect(worstExit([0])).to.equal(0);
      expect(worstExit([])).to.equal(0);
    });

    it('a failed rollback (5) wins over an interrupt and an unreachable host', async () => {
      let stop = false;
      const { outcome } = await fleetRun({ serial: 2, max_fail_percentage: 0 }, 4, { h1: 'rollback_failed', h2: 'unreachable' }, { stopping: () => stop, during: () => (stop = true) });
      expect(outcome.exitCode).to.equal(Exit.rollbackFailed);
    });

    it('an interrupt (130) wins over a refusal and an unreachable host', async () => {
      let stop = false;
      const { outcome } = await fleetRun({ serial: 2, max_fail_percentage: 100 }, 4, { h1: 'refused', h2: 'unreachable' }, { stopping: () => stop, during: () => (stop = true) });
      expect(outcome.exitCode).to.equal(Exit.interrupted);
    });

    it('a halt (4) wins over unreachable and rolled back hosts', async () => {
      const { outcome } = await fleetRun({ serial: 2, max_fail_percentage: 0 }, 4, { h1: 'unreachable', h2: 'rolled_back' });
      expect(outcome.exitCode).to.equal(Exit.refused);
    });

    it('a refused host (4) wins over an unreachable one without a halt', async () => {
      const { outcome } = await fleetRun({ max_fail_percentage: 100 }, 3, { h1: 'refused', h2: 'unreachable' });
      expect(outcome.halted).to.equal(false);
      expect(outcome.exitCode).to.equal(Exit.refused);
    });

    it('unreachable (3) wins over rolled back (1); ok and changed are 0', async () => {
      expect((await fleetRun({ max_fail_percentage: 100 }, 3, { h1: 'rolled_back', h2: 'unreachable' })).outcome.exitCode).to.equal(Exit.unreachable);
      expect((await fleetRun({ max_fail_percentage: 100 }, 3, { h1: 'rolled_back' })).outcome.exitCode).to.equal(Exit.failed);
      expect((await fleetRun({}, 3, { h1: 'ok' })).outcome.exitCode).to.equal(Exit.ok);
    });
  });
});
