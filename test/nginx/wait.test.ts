import { expect } from 'chai';
import { ScriptOutputError } from '../../src/nginx/format.js';
import { parseSignal } from '../../src/nginx/signal.js';
import { describeAlive, parseWait, type WaitResult } from '../../src/nginx/wait.js';
import { fixture } from './fixtures.js';

type Fail = Extract<WaitResult, { ok: false }>;
const failed = (r: WaitResult): Fail => {
  expect(r.ok, JSON.stringify(r)).to.equal(false);
  return r as Fail;
};
const scopes = (r: Fail) => r.alive.map((p) => `${p.scope}:${p.role}`);

const cases: { file: string; check: (r: WaitResult) => void }[] = [
  ...['wait-new-master-ready-ok.txt', 'wait-old-workers-exited-ok.txt', 'wait-old-master-exited-ok.txt'].map((file) => ({
    file,
    check: (r: WaitResult) => {
      expect(r.ok).to.equal(true);
      if (!r.ok) return;
      expect(r.newMasterPid).to.be.a('number');
      expect(r.workers).to.have.length(2);
      expect(r.workers).to.not.include(r.newMasterPid);
      expect(r.elapsedMs).to.be.lessThan(1000);
    },
  })),
  {
    file: 'wait-old-workers-timeout.txt',
    check: (r) => {
      const f = failed(r);
      expect(f.reason).to.equal('timeout');
      expect(f.message).to.match(/^timed out after 300 ms: 2 old worker process\(es\) still running/);
      expect(f.elapsedMs).to.be.at.least(300);
      expect(scopes(f)).to.deep.equal([
        'old-master:master', 'old-child:worker', 'old-child:worker', 'new-master:master', 'new-child:worker', 'new-child:worker',
      ]);
      const oldWorkers = f.alive.filter((p) => p.scope === 'old-child');
      // the test parked one unfinished request in an old worker
      expect(oldWorkers.map((p) => p.tcpEstablished).sort()).to.deep.equal([0, 1]);
      for (const w of oldWorkers) expect(w).to.include({ tcpListen: 1, ppid: f.oldbinPid });
      expect(f.alive.find((p) => p.scope === 'new-master')?.pid).to.equal(f.pidFilePid);
      expect(describeAlive(oldWorkers.find((p) => p.tcpEstablished === 1)!)).to.match(/^old-child \d+ S nginx: worker process \(1 TCP established\)$/);
    },
  },
  {
    file: 'wait-new-binary-exited.txt',
    check: (r) => {
      const f = failed(r);
      expect(f.reason).to.equal('new-binary-exited');
      expect(f.logLine).to.match(/\[notice\] \d+#\d+: new binary process \d+ exited with code 1$/);
      expect(f.elapsedMs).to.be.lessThan(500);
      expect(f.oldbinPid).to.equal(undefined);
      // the old master took its pid file back and serves on with its workers
      expect(scopes(f)).to.deep.equal(['old-master:master', 'old-child:worker', 'old-child:worker']);
      expect(f.alive[0]!.pid).to.equal(f.pidFilePid);
    },
  },
  {
    file: 'wait-new-binary-reverted.txt',
    check: (r) => {
      const f = failed(r);
      // error_log at "error": no log line; the pid file's ctime gave it away
      expect(f.reason).to.equal('new-binary-exited');
      expect(f.logLine).to.equal(undefined);
      expect(f.message).to.match(/renamed .*\.oldbin back/);
      expect(f.elapsedMs).to.be.lessThan(500);
      expect(scopes(f)).to.deep.equal(['old-master:master', 'old-child:worker', 'old-child:worker']);
    },
  },
  {
    file: 'wait-new-binary-reverted-no-ctime.txt',
    check: (r) => {
      const f = failed(r);
      // without the ctime snapshot the same state is indistinguishable from "USR2 not handled yet"
      expect(f.reason).to.equal('timeout');
      expect(f.message).to.match(/no .*\.oldbin yet/);
    },
  },
  {
    file: 'wait-usr2-ignored.txt',
    check: (r) => {
      const f = failed(r);
      expect(f.reason).to.equal('usr2-ignored');
      expect(f.logLine).to.match(/\[crit\] .*the changing binary signal is ignored/);
    },
  },
  {
    file: 'wait-old-master-timeout.txt',
    check: (r) => {
      const f = failed(r);
      expect(f.reason).to.equal('timeout');
      expect(f.message).to.match(/old master \d+ still running$/);
      expect(scopes(f)).to.deep.equal(['old-master:master', 'old-child:worker', 'old-child:worker']);
    },
  },
];

describe('nginx wait parser (captured from real nginx)', () => {
  for (const c of cases) it(c.file, () => c.check(parseWait(fixture(c.file))));

  it('reports bad arguments', () => {
    const r = failed(parseWait('#hotswap-wait 1\nresult fail\nreason bad-args\nmessage_s =unknown mode\nend\n'));
    expect(r).to.deep.include({ reason: 'bad-args', message: 'unknown mode', alive: [] });
  });

  it('rejects truncated or foreign output', () => {
    const text = fixture('wait-old-workers-timeout.txt');
    expect(() => parseWait(text.slice(0, 200))).to.throw(ScriptOutputError, /truncated/);
    expect(() => parseWait('#hotswap-wait 1\nresult maybe\nend\n')).to.throw(ScriptOutputError);
  });
});

describe('nginx signal result', () => {
  it('maps exit codes to refusals', () => {
    expect(parseSignal('USR2', 10, 0, 'sent USR2 to 10\n')).to.deep.equal({ ok: true, signal: 'USR2', pid: 10, message: 'sent USR2 to 10' });
    expect(parseSignal('QUIT', 10, 5, fixture('signal-not-master.txt'))).to.deep.include({ ok: false, reason: 'not-nginx-master' });
    expect(parseSignal('QUIT', 10, 4, 'refused: process 10 has exited (zombie)\n')).to.deep.include({ reason: 'zombie' });
    expect(parseSignal('QUIT', 10, 3, 'refused: no process 10\n')).to.deep.include({ reason: 'no-such-process' });
    expect(() => parseSignal('QUIT', 10, 127, 'sh: not found')).to.throw(/unexpected exit 127/);
  });
});
