// Steps without a host: real captured facts in, the actions a step yields out,
// as tables. Each generator is walked here the way the executor walks it
// (each action's result handed back), with a transport that refuses any use:
// a step never touches the host itself.
import { expect } from 'chai';
import { parseFacts, type HostFacts } from '../../src/nginx/facts.js';
import type { Step } from '../../src/playbook/schema.js';
import type { ResolvedHost } from '../../src/playbook/resolved.js';
import { Events } from '../../src/run/events.js';
import { HostRun, type UpgradeState } from '../../src/run/host-run.js';
import type { Action } from '../../src/run/action.js';
import { stepActions } from '../../src/steps/index.js';
import { describeRollback, rollbackPlan, ROLLBACK_PHASES } from '../../src/plan/rollback-plan.js';
import { parseRestored, RemoteError, restoredText } from '../../src/steps/file-ops.js';
import { parseStop } from '../../src/nginx/stop-child.js';
import { settledQuietly, type Transport } from '../../src/transport/transport.js';
import { fixture, NEW_SHA, OLD_SHA } from '../nginx/fixtures.js';

const untouchable: Transport = {
  host: 'h',
  exec: () => Promise.reject(new Error('a step ran a command itself')),
  sequence: (commands) => commands.map(() => settledQuietly(Promise.reject(new Error('a step ran commands itself')))),
  put: () => Promise.reject(new Error('a step uploaded by itself')),
  openTcp: () => Promise.reject(new Error('a step opened a connection itself')),
  close: () => Promise.resolve(),
};

function hostRun(facts: HostFacts, steps: Step[], dryRun = false, state: Partial<UpgradeState> = {}): HostRun {
  const m = facts.master!;
  const prefix = facts.pidFile.path.replace(/\/logs\/nginx\.pid$/, '');
  const host: ResolvedHost = {
    name: 'h', connection: 'ssh', ssh: { address: 'h' }, groups: [], steps,
    nginx: { prefix, binary: `${prefix}/sbin/nginx`, pid_file: facts.pidFile.path, conf: `${prefix}/conf/nginx.conf`, error_log: `${prefix}/logs/error.log` },
  };
  const binaries = new Map([['./new', { path: './new', sha256: NEW_SHA, size: 1264552, bytes: Buffer.alloc(0) }]]);
  return new HostRun(host, untouchable, { dryRun, command: 'apply', events: new Events(), runId: 'run1', stamp: '20261121T120000Z', binaries }, facts, {
    phase: 'clean', oldPid: m.pid, target: m.execPath!, oldSha: m.exeSha256!, newSha: NEW_SHA, errorLogSize: 0, ...state,
  });
}

type Row = { kind: string; description: string; phase?: string; script?: string; args?: readonly string[] };

/** Walks a step: every action is answered with `answer(action)` (default: what a plan gets). */
function walk(run: HostRun, step: Step, answer: (a: Action) => unknown = (a) => a.planned): { rows: Row[]; summary: string } {
  const gen = stepActions(run, step);
  const rows: Row[] = [];
  let next = gen.next();
  while (!next.done) {
    const a = next.value;
    rows.push({ kind: a.kind, description: a.description, phase: a.phase, script: a.command?.script, args: a.command?.args });
    next = gen.next(answer(a));
  }
  return { rows, summary: next.value };
}

const single = parseFacts(fixture('facts-single-master.txt'));
const m = single.master!;
const bin = m.execPath!;

describe('steps as actions, from captured facts (no host)', () => {
  it('the facts are the captured single-master state', () => {
    expect(m.exeSha256).to.equal(OLD_SHA);
    expect(bin).to.match(/\/sbin\/nginx$/);
  });

  const table: { name: string; step: Step; expect: Partial<Row>[]; summary: RegExp }[] = [
    {
      name: 'backup',
      step: { backup: { keep: 2 } },
      expect: [{ kind: 'check', description: `read which package owns ${bin}: dpkg -S (rpm -qf where dpkg is missing)`, args: ['--', bin] }, { kind: 'change', description: `copy ${bin} to ${bin}.20261121T120000Z.bak and verify its sha256 ${OLD_SHA.slice(0, 12)}; keep the newest 2 backups named nginx.<UTC time>.bak in ${bin.replace(/\/nginx$/, '')}`, args: [bin, `${bin}.20261121T120000Z.bak`, OLD_SHA, bin.replace(/\/nginx$/, ''), 'nginx', '2'] }],
      summary: /\.bak$/,
    },
    {
      name: 'signal USR2',
      step: { signal: 'USR2' },
      expect: [{ kind: 'change', description: `send USR2 to the old master (pid ${m.pid})`, phase: 'usr2', args: ['USR2', String(m.pid)] }],
      summary: new RegExp(`^USR2 -> old-master ${m.pid}$`),
    },
    {
      name: 'signal QUIT',
      step: { signal: 'QUIT' },
      expect: [{ kind: 'change', description: `send QUIT to the old master (pid ${m.pid})`, phase: 'quit' }],
      summary: /QUIT/,
    },
    {
      name: 'signal HUP to the master: the pid file is read first',
      step: { signal: { send: 'HUP', to: 'master' } },
      expect: [{ kind: 'check', description: `read which master ${single.pidFile.path} names now` }, { kind: 'change', description: `send HUP to the master (pid ${m.pid})`, phase: undefined }],
      summary: /HUP -> master/,
    },
    {
      name: 'wait until old-workers-exited',
      step: { 'wait-for-workers': { until: 'old-workers-exited', timeout: '5s' } },
      expect: [{ kind: 'wait', description: `wait up to 5s until the old master's (pid ${m.pid}) workers have exited`, args: ['old-workers-exited', String(m.pid), single.pidFile.path, '5000', `${single.pidFile.path.replace(/nginx\.pid$/, 'error.log')}`, '0'] }],
      summary: /ms$/,
    },
    {
      name: 'wait until old-master-exited, then the watch of the new master',
      step: { 'wait-for-workers': { until: 'old-master-exited' } },
      expect: [{ kind: 'wait', description: `wait up to 30s until the old master (pid ${m.pid}) has exited and .oldbin is gone` }, { kind: 'wait', description: `watch the new master for 1s: still the master in ${single.pidFile.path}, alive, with workers, answering the verify steps' HTTP checks` }],
      summary: /ms$/,
    },
    {
      name: 'verify',
      step: { verify: { http: [{ url: 'http://127.0.0.1/healthz', contains: 'ok' }], retries: 2 } },
      expect: [{ kind: 'wait', description: `check that the master runs the new build (sha256 ${NEW_SHA.slice(0, 12)}), and GET http://127.0.0.1/healthz on the host answers 200 containing "ok" (2 retries, 1s apart)` }],
      summary: /planned/,
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const { rows, summary } = walk(hostRun(single, [row.step]), row.step, (a) => (a.kind === 'check' ? m.pid : a.planned));
      expect(rows).to.have.length(row.expect.length);
      row.expect.forEach((want, i) => expect(rows[i]).to.deep.include(want));
      expect(summary).to.match(row.summary);
    });
  }

  it('copy-binary: upload beside the target, check it (owner and mode of the target), rename (phase replaced); a plan stages elsewhere and checks without the owner', () => {
    const step: Step = { 'copy-binary': { src: './new' } };
    const apply = walk(hostRun(single, [step]), step, (a) => (a.kind === 'check' && a.description.startsWith('upload') ? `${bin.replace(/nginx$/, '')}.nginx.hotswap-run1` : a.kind === 'check' ? '' : undefined));
    expect(apply.rows.map((r) => r.kind)).to.deep.equal(['check', 'check', 'change']);
    expect(apply.rows[0].description).to.equal(`upload ./new (sha256 ${NEW_SHA}), 1264552 bytes, to ${bin.replace(/nginx$/, '')}.nginx.hotswap-run1`);
    expect(apply.rows[1].description).to.match(new RegExp(`^check its sha256, give it the owner and mode of ${bin}, compare nginx -V with the running build's \\(pid ${m.pid}\\), and run it with -t -p `));
    expect(apply.rows[2]).to.deep.include({ phase: 'replaced', description: `rename ${bin.replace(/nginx$/, '')}.nginx.hotswap-run1 over ${bin} (sha256 ${OLD_SHA.slice(0, 12)} -> ${NEW_SHA.slice(0, 12)})` });
    // the plan's variant of the upload names the private temp dir; the check it is answered with decides the rest
    const run = hostRun(single, [step]);
    const gen = stepActions(run, step);
    const upload = gen.next().value as Action;
    expect(upload.inPlan?.description).to.match(/to \/tmp\/hotswap-plan\.XXXXXX\/\.nginx\.hotswap-run1 \(a private temp dir outside the nginx tree, removed after the checks\)$/);
    const checked = gen.next('/tmp/hotswap-plan.abc/.nginx.hotswap-run1').value as Action;
    expect(checked.description).not.to.include('owner and mode');
    expect(checked.command?.args.slice(0, 3)).to.deep.equal(['/tmp/hotswap-plan.abc/.nginx.hotswap-run1', NEW_SHA, '-']);
  });

  it('copy-binary: an nginx -t rejection thrown back into the step becomes a refusal', () => {
    const step: Step = { 'copy-binary': { src: './new' } };
    const gen = stepActions(hostRun(single, [step]), step);
    gen.next();
    gen.next('/x/.nginx.hotswap-run1');
    expect(() => gen.throw(new RemoteError('nginx: [emerg] unknown directive "foo"', 12))).to.throw(/the new build rejects the running config \(nginx -t\)/).with.property('name', 'Refusal');
  });

  it('a wait that fails says what is still alive', () => {
    const step: Step = { 'wait-for-workers': { until: 'new-master-ready' } };
    const gen = stepActions(hostRun(single, [step]), step);
    gen.next();
    expect(() => gen.next({ ok: false, reason: 'timeout', message: 'timed out after 10000 ms', alive: [] })).to.throw(/^new-master-ready: timed out after 10000 ms$/);
  });
});

describe('the rollback plan per phase', () => {
  const v = { target: '/n/sbin/nginx', backup: '/n/sbin/nginx.1.bak', oldPid: 10, newPid: 20, pidFile: '/n/logs/nginx.pid', oldSha: OLD_SHA };
  const table: [string, string[]][] = [
    ['clean', []],
    ['replaced', ['restore', 'confirm']],
    ['usr2', ['restore', 'stop-new', 'wait-old-back', 'confirm']],
    ['winch', ['restore', 'hup-old', 'wait-old-workers', 'stop-new', 'wait-old-back', 'confirm']],
    ['quit', ['restore', 'wait-old-gone', 'upgrade-back', 'confirm']],
    ['done', ['restore', 'wait-old-gone', 'upgrade-back', 'confirm']],
  ];
  for (const [phase, kinds] of table) {
    it(`${phase}: ${kinds.join(', ') || 'nothing'}`, () => {
      expect(rollbackPlan(phase as never).map((a) => a.kind)).to.deep.equal(kinds);
    });
  }
  it('restores the file first in every phase, before any wait on a process', () => {
    for (const p of ROLLBACK_PHASES) expect(rollbackPlan(p)[0].kind, p).to.equal('restore');
  });
  it('describes each action with its values; changes and reads apart', () => {
    expect(describeRollback({ kind: 'restore' }, v)).to.deep.equal({ changes: true, description: `restore /n/sbin/nginx from /n/sbin/nginx.1.bak: check its sha256 ${OLD_SHA.slice(0, 12)}, ln /n/sbin/nginx.1.bak /n/sbin/nginx.hotswap-restore.<pid>, mv it over /n/sbin/nginx (a copy only where no link can be made)` });
    expect(describeRollback({ kind: 'hup-old' }, v)).to.deep.equal({ changes: true, description: 'send HUP to the old master (pid 10): it starts workers again' });
    expect(describeRollback({ kind: 'wait-old-back' }, v).changes).to.equal(false);
  });
});

describe('what the restore and the stop scripts print', () => {
  const table: [string, ReturnType<typeof parseRestored>, RegExp][] = [
    ['link\n', { how: 'link' }, /\(hard link\)$/],
    ["copy ln: failed to create hard link '/n/x': Invalid cross-device link\n", { how: 'copy', why: "ln: failed to create hard link '/n/x': Invalid cross-device link" }, /by a copy: no hard link could be made \(ln: .*cross-device link\)$/],
    ["moved ln: failed to create hard link '/n/x': No space left on device\n", { how: 'moved', why: "ln: failed to create hard link '/n/x': No space left on device" }, /renaming \/b into place.*was linked back$/],
    ['moved-nolink x\n', { how: 'moved-nolink', why: 'x' }, /\/b is gone, \/t is the only copy of the old build$/],
  ];
  for (const [out, parsed, text] of table) {
    it(JSON.stringify(out), () => {
      expect(parseRestored(out)).to.deep.equal(parsed);
      expect(restoredText(parsed, '/b', '/t')).to.match(text);
    });
  }
  it('stop: gone, TERM, KILL, refused', () => {
    expect(parseStop(0, 'gone\n')).to.deep.equal({ ok: true, how: 'gone' });
    expect(parseStop(0, 'stopped TERM 42\n')).to.deep.equal({ ok: true, how: 'TERM' });
    expect(parseStop(0, 'stopped KILL 42\n')).to.deep.equal({ ok: true, how: 'KILL' });
    expect(parseStop(3, "refused: pid 42 has not exec'd: it is not the process USR2 started\n")).to.deep.equal({ ok: false, message: "pid 42 has not exec'd: it is not the process USR2 started" });
  });
});

describe('the offline plan: the same steps, walked with no host', () => {
  it('withholds every action, says where unknown pids come from, and lists the rollback per phase', async () => {
    const { offlineHostPlan } = await import('../../src/plan/offline.js');
    const steps: Step[] = [{ backup: {} }, { 'copy-binary': { src: './new' } }, { signal: 'USR2' }, { 'wait-for-workers': { until: 'new-master-ready' } }, { signal: 'WINCH' }, { 'wait-for-workers': { until: 'old-workers-exited' } }, { verify: {} }, { signal: 'QUIT' }, { 'wait-for-workers': { until: 'old-master-exited' } }];
    const host: ResolvedHost = { name: 'h', connection: 'ssh', ssh: { address: 'h' }, groups: [], steps, nginx: { prefix: '/n', binary: '/n/sbin/nginx', pid_file: '/n/logs/nginx.pid', conf: '/n/conf/nginx.conf', error_log: '/n/logs/error.log' } };
    const p = await offlineHostPlan(host, new Map([['./new', { path: './new', sha256: NEW_SHA, size: 5, bytes: Buffer.alloc(0) }]]));
    expect(p.problem).to.equal(undefined);
    const all = p.steps.flatMap((s) => s.actions);
    expect(all.every((a) => a.withheld)).to.equal(true);
    expect(all.map((a) => a.description)).to.include.members([
      'copy /n/sbin/nginx to /n/sbin/nginx.<UTC time>.bak and verify its sha256 against the running build; keep the newest 3 backups named nginx.<UTC time>.bak in /n/sbin',
      `rename /n/sbin/.nginx.hotswap-<run> over /n/sbin/nginx (sha256 ? -> ${NEW_SHA.slice(0, 12)})`,
      'send USR2 to the old master (pid from /n/logs/nginx.pid before the upgrade)',
    ]);
    expect(p.rollback.map((r) => r.phase)).to.deep.equal(['after copy-binary, before USR2 (phase replaced)', 'after USR2, before WINCH (phase usr2)', 'after WINCH (phase winch)', 'after QUIT to the old master, or once it exited (phases quit, done)']);
    for (const r of p.rollback) expect(r.actions[0]).to.match(/^restore \/n\/sbin\/nginx from \/n\/sbin\/nginx\.<UTC time>\.bak: /);
  });
});
