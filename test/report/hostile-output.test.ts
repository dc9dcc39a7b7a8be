// Host text through every reporter a person reads: no raw control character
// reaches the terminal and no host can forge a line of hotswap's own.
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import type { RunEvent } from '../../src/run/events.js';
import type { HostFacts } from '../../src/nginx/facts.js';
import { plainLine } from '../../src/report/plain.js';
import { jsonLine } from '../../src/report/json-lines.js';
import { recapLines } from '../../src/report/recap.js';
import { PlanBuilder, planMarkdown, planText } from '../../src/report/plan.js';
import { ListrReporter, hostTitle, stepTitle } from '../../src/report/listr.js';
import { escapeStrings } from '../../src/report/terminal-text.js';
import { statusText, type HostStatus } from '../../src/run/host-status.js';
import { ESCAPED_PARTS, HOSTILE, forgedLines, rawControl } from './hostile.js';

const host = 'lab-1';
const steps = ['backup', 'copy-binary', 'signal USR2'];

/** A run on one host whose every message is hostile, as the runner would emit it. */
const RUN: RunEvent[] = [
  { type: 'run-start', name: 'lab upgrade', dryRun: false, hosts: [host], batches: [[host]] },
  { type: 'batch-start', batch: 1, hosts: [host] },
  { type: 'host-start', host, batch: 1, steps },
  { type: 'host-facts', host, connectMs: 1, factsMs: 1, facts: { master: { pid: 42, argv0: HOSTILE, execPath: `/usr/sbin/${HOSTILE}`, exeSha256: 'ab'.repeat(32), workers: [1, 2] }, binary: { path: `/x/${HOSTILE}`, sha256: 'cd'.repeat(32) } } as HostFacts },
  { type: 'action', host, step: 0, description: `copy ${HOSTILE} to /x.bak`, changes: true, withheld: false },
  { type: 'warning', host, step: 0, message: HOSTILE },
  { type: 'step-end', host, step: 0, label: 'backup', result: 'changed', ms: 10 },
  { type: 'step-end', host, step: 1, label: 'copy-binary', result: 'failed', ms: 10, message: `the new build rejects the running config (nginx -t): ${HOSTILE}` },
  { type: 'rollback-start', host, phase: 'before-usr2', reason: HOSTILE },
  { type: 'rollback-end', host, ok: true, ms: 5, message: HOSTILE },
  { type: 'step-end', host, step: 2, label: 'signal USR2', result: 'skipped', ms: 0, message: HOSTILE },
  { type: 'host-end', host, result: 'rolled_back', ms: 30, message: HOSTILE },
  { type: 'batch-end', batch: 1, failed: 1, total: 1, halted: true },
  { type: 'batch-skipped', batch: 2, hosts: ['lab-2'], reason: HOSTILE },
];

function expectSafe(out: string, what: string, colour = false) {
  expect(rawControl(out, colour), `${what}: a raw control character`).to.equal(undefined);
  expect(forgedLines(out), `${what}: lines a host forged`).to.deep.equal([]);
}

describe('reporters on hostile host text', () => {
  it('plain lines: one line per event, every control character escaped', () => {
    const lines = RUN.map(plainLine).filter((l): l is string => l !== undefined);
    expect(lines.length).to.be.greaterThan(8);
    for (const l of lines) {
      expect(l, l).not.to.include('\n');
      expectSafe(l, l);
    }
    const failed = lines.find((l) => l.startsWith('[lab-1] 2. copy-binary: failed'))!;
    for (const part of ESCAPED_PARTS) expect(failed).to.include(part);
  });

  it('JSON lines: one per event, every control character escaped, the text intact', () => {
    for (const e of RUN) {
      const line = jsonLine(e);
      expectSafe(line, e.type);
      expect(JSON.parse(line)).to.deep.include(e);
    }
  });

  it('the recap: one line per host, the reason escaped', () => {
    const out = recapLines([{ host, result: 'rolled_back', ms: 30, message: HOSTILE }, { host: 'lab-3', result: 'skipped', ms: 0, message: HOSTILE }], 40).join('\n');
    expectSafe(out, 'recap');
    expect(out.split('\n')).to.have.length(3);
    expect(out).to.include('\\x1b]52;c;');
  });

  it('the plan as text and as Markdown', () => {
    const b = new PlanBuilder();
    for (const e of RUN) b.on(e);
    b.on({ type: 'host-start', host: 'lab-3', batch: 1, steps });
    b.on({ type: 'host-end', host: 'lab-3', result: 'refused', ms: 1, message: HOSTILE });
    const text = planText(b.doc);
    const md = planMarkdown(b.doc);
    for (const [out, what] of [[text, 'text'], [md, 'markdown']]) {
      expectSafe(out, what);
      expect(out, what).to.include('\\x9b2J');
    }
    expect(text).to.match(/execs \/usr\/sbin\/clear \\x1b\[2J/);
    expect(text).to.match(/^lab-3 \(batch 1\): REFUSED: clear \\x1b\[2J.*\\n\[lab-2\] changed/m);
  });

  it('status: everything read off the host is escaped, the layout is ours', () => {
    const s: HostStatus = {
      host,
      master: { pid: 42, sha256: 'ab'.repeat(32), version: `nginx/1.22.1 ${HOSTILE}`, workers: 2, execs: HOSTILE },
      binary: { path: '/usr/sbin/nginx', sha256: 'ab'.repeat(32) },
      upgrade: { inProgress: false },
      lastRun: { run: HOSTILE, started: '2024-01-01T00:00:00Z', finished: false, phase: HOSTILE, last: HOSTILE },
      backups: [{ path: `/usr/sbin/nginx.${HOSTILE}.bak`, sha256: 'ef'.repeat(32) }],
      lock: `apply by ${HOSTILE}`,
      problems: [HOSTILE],
    };
    const out = statusText(escapeStrings(s));
    expectSafe(out, 'status');
    expect(out.split('\n')).to.have.length(7);
    expect(out).to.match(/^ {2}lock: held: apply by clear \\x1b\[2J/m);
  });

  it("listr titles: a host's message cannot redraw the screen", () => {
    const end = RUN.find((e) => e.type === 'host-end') as Extract<RunEvent, { type: 'host-end' }>;
    const step = RUN.find((e) => e.type === 'step-end' && e.result === 'failed') as Extract<RunEvent, { type: 'step-end' }>;
    for (const t of [hostTitle(host, end), stepTitle('copy-binary', step)]) {
      expectSafe(t, t);
      expect(t).not.to.include('\n');
      expect(t).to.include('\\x1b]52;c;');
    }
  });

  for (const tty of [false, true]) {
    it(`listr draws the run with the host text escaped (${tty ? 'a terminal: the default renderer' : 'stdout piped: the simple renderer'})`, async () => {
      const stream = Object.assign(new PassThrough(), { columns: 400, rows: 50, isTTY: tty }) as unknown as NodeJS.WriteStream;
      let out = '';
      stream.on('data', (d: Buffer) => (out += d.toString('utf8')));
      // listr2 picks its renderer by whether stdout is a terminal
      const was = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
      Object.defineProperty(process.stdout, 'isTTY', { value: tty, configurable: true, writable: true });
      try {
        const r = new ListrReporter(stream);
        for (const e of RUN) r.on(e);
        await r.close();
      } finally {
        if (was) Object.defineProperty(process.stdout, 'isTTY', was);
        else delete (process.stdout as { isTTY?: boolean }).isTTY;
      }
      expect(out).to.include('copy-binary');
      expect(out).to.include('\\x1b]52;c;');
      // the renderer's own sequences (colour; cursor and erase for a redraw) are allowed, the host's are not
      const own = out.replace(/\x1b\[[0-9;]*[mGKAJ]|\x1b\[\?25[lh]/g, '');
      expect(rawControl(own), 'a raw control character').to.equal(undefined);
      expect(out).not.to.include('\x1b]52');
      expect(out).not.to.include('\x1b[2J');
      expect(forgedLines(own)).to.deep.equal([]);
    });
  }
});
