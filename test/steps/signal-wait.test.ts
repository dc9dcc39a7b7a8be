// A signal followed by its wait costs one round trip: the signal step hands
// both commands to the transport as one sequence, and the wait step takes the
// result of the one already sent. Real captured facts and wait output in; a
// transport that records what it was given and answers like a host.
import { expect } from 'chai';
import { parseFacts } from '../../src/nginx/facts.js';
import type { Step } from '../../src/playbook/schema.js';
import type { ResolvedHost } from '../../src/playbook/resolved.js';
import { Events } from '../../src/run/events.js';
import { runStep } from '../../src/run/executor.js';
import { HostRun } from '../../src/run/host-run.js';
import { script } from '../../src/remote/scripts.js';
import { stepActions } from '../../src/steps/index.js';
import { NotRunError, settledQuietly, type Command, type ExecResult, type Transport } from '../../src/transport/transport.js';
import { fixture, NEW_SHA } from '../nginx/fixtures.js';

type Given = { how: 'exec' | 'sequence'; scripts: string[] };

/** Which host script a command runs (the journal line may come first, folded into it). */
function scriptOf(argv: readonly string[]): string {
  for (const name of ['signal', 'wait', 'journal-append', 'journal-line'] as const) {
    if (argv.some((a) => a.includes(script(name)) && (name !== 'journal-line' || a === script(name)))) return name;
  }
  return argv.join(' ').slice(0, 40);
}

/** Answers the signal script with `signalCode`, the wait script with captured output. */
function recording(signalCode: number): { t: Transport; given: Given[] } {
  const given: Given[] = [];
  const answer = (argv: readonly string[]): ExecResult => {
    const s = scriptOf(argv);
    if (s === 'signal') return { code: signalCode, stdout: signalCode === 0 ? 'sent USR2\n' : 'not an nginx master\n', stderr: '' };
    if (s === 'wait') return { code: 0, stdout: fixture('wait-new-master-ready-ok.txt'), stderr: '' };
    return { code: 0, stdout: '', stderr: '' };
  };
  const t: Transport = {
    host: 'h',
    exec: async (argv) => {
      given.push({ how: 'exec', scripts: [scriptOf(argv)] });
      return answer(argv);
    },
    sequence: (commands: readonly Command[]) => {
      given.push({ how: 'sequence', scripts: commands.map((c) => scriptOf(c.argv)) });
      let ok = true;
      return commands.map((c) => {
        if (!ok) return settledQuietly(Promise.reject(new NotRunError()));
        const r = answer(c.argv);
        ok = r.code === 0;
        return Promise.resolve(r);
      });
    },
    put: () => Promise.reject(new Error('no upload here')),
    openTcp: () => Promise.reject(new Error('no connection here')),
    close: () => Promise.resolve(),
  };
  return { t, given };
}

function hostRun(t: Transport, steps: Step[]): HostRun {
  const facts = parseFacts(fixture('facts-single-master.txt'));
  const m = facts.master!;
  const prefix = facts.pidFile.path.replace(/\/logs\/nginx\.pid$/, '');
  const host: ResolvedHost = {
    name: 'h', connection: 'ssh', ssh: { address: 'h' }, groups: [], steps,
    nginx: { prefix, binary: `${prefix}/sbin/nginx`, pid_file: facts.pidFile.path, conf: `${prefix}/conf/nginx.conf`, error_log: `${prefix}/logs/error.log` },
  };
  return new HostRun(host, t, { dryRun: false, command: 'apply', events: new Events(), runId: 'run1', stamp: '20261121T120000Z', binaries: new Map() }, facts, {
    phase: 'clean', oldPid: m.pid, target: m.execPath!, oldSha: m.exeSha256!, newSha: NEW_SHA, errorLogSize: 0,
  });
}

async function runSteps(run: HostRun): Promise<string[]> {
  const summaries: string[] = [];
  for (const [i, step] of run.host.steps.entries()) {
    run.step = i;
    summaries.push(await runStep(run, stepActions(run, step)));
  }
  return summaries;
}

describe('a signal and the wait after it', () => {
  it('go to the host as one sequence (journal line, signal, wait); the wait step asks nothing more', async () => {
    const { t, given } = recording(0);
    const run = hostRun(t, [{ signal: 'USR2' }, { 'wait-for-workers': { until: 'new-master-ready' } }]);
    const [sent, waited] = await runSteps(run);
    expect(given).to.deep.equal([{ how: 'sequence', scripts: ['signal', 'wait'] }]);
    expect(sent).to.match(/^USR2 -> old-master \d+$/);
    expect(waited).to.match(/^new master \d+ with workers \d+/);
    expect(run.state.newPid).to.be.a('number');
    expect(run.ahead).to.equal(undefined);
  });

  it('a refused signal fails its step, and the wait behind it never ran', async () => {
    const { t, given } = recording(5);
    const run = hostRun(t, [{ signal: 'USR2' }, { 'wait-for-workers': { until: 'new-master-ready' } }]);
    run.step = 0;
    const err = await runStep(run, stepActions(run, run.host.steps[0]!)).then(() => null, (e: Error) => e.message);
    expect(err).to.match(/^USR2 not sent to pid \d+: not an nginx master/);
    expect(given).to.deep.equal([{ how: 'sequence', scripts: ['signal', 'wait'] }]);
    expect(await run.ahead!.result.then(() => null, (e: Error) => e)).to.be.instanceOf(NotRunError);
  });

  it('a signal with no wait after it is one command alone', async () => {
    const { t, given } = recording(0);
    const run = hostRun(t, [{ signal: 'USR2' }]);
    await runSteps(run);
    expect(given).to.deep.equal([{ how: 'exec', scripts: ['signal'] }]);
  });
});
