// A host whose own text is hostile, for real: an nginx master started with an
// argv[0] full of terminal commands (it shows in the process title hotswap
// reads) and a lock whose owner (JSON, read back by apply) holds the same.
// plan, apply and status, as a user runs them (the compiled CLI, plain output),
// print it escaped.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { startLabFleet, type LabFleet } from '../../lab/fleet.js';
import { startNginxHost, type NginxHost } from '../../lab/nginx-host.js';
import { freePort } from '../../lab/free-port.js';
import { runCli } from '../cli/run-cli.js';
import { forgedLines, rawControl } from './hostile.js';

// No slash and no blank: nginx keeps it as the first word of its title, and
// hotswap refuses the host (USR2 could not exec it) naming it in the message.
const ARGV0 = 'nginx\x1b[2J\x1b]52;c;aGk=\x07\x9b31m\r[lab-2]\bchanged';
const OWNER = { run: 'r1', user: 'evil\x1b]52;c;aGk=\x07\x1b[2J\r\n[lab-2] changed\u202e', control: 'ctl\x9b2J', pid: 1, since: '2024-01-01T00:00:00Z', command: 'apply' };

describe('a host that prints terminal commands (lab)', function () {
  this.timeout(120_000);
  let fleet: LabFleet | undefined;
  let host: NginxHost | undefined;
  after(async () => {
    await host?.stop().catch(() => undefined);
    await fleet?.stop();
    if (fleet) rmSync(fleet.dir, { recursive: true, force: true });
  });

  it('never reaches the terminal raw: plan, apply and status escape it', async () => {
    fleet = await startLabFleet({ dir: mkdtempSync(join(tmpdir(), 'hotswap-lab-')), hosts: 0 });
    const root = join(fleet.dir, 'hosts', 'lab-1');
    host = await startNginxHost({ root, binary: fleet.builds.old.path, port: await freePort(), user: { uid: fleet.user.uid, gid: fleet.user.gid }, argv0: ARGV0 });
    fleet.hosts.push({ ...host, name: 'lab-1' });
    // a lock left by "someone": apply reads its owner back and names it
    mkdirSync(join(root, 'logs', 'hotswap.lock'));
    writeFileSync(join(root, 'logs', 'hotswap.lock', 'owner'), `${JSON.stringify(OWNER)}\n`);
    const playbook = await fleet.writePlaybook(join(fleet.dir, 'fleet.yaml'));

    const plan = await runCli(['plan', playbook]);
    const apply = await runCli(['apply', playbook, '--yes']);
    const status = await runCli(['status', playbook]);
    const runs = { plan, apply, status };

    for (const [name, r] of Object.entries(runs)) {
      for (const [stream, out] of [['stdout', r.stdout], ['stderr', r.stderr]]) {
        expect(rawControl(out), `${name} ${stream}: a raw control character in\n${JSON.stringify(out)}`).to.equal(undefined);
        expect(forgedLines(out), `${name} ${stream}: lines the host forged`).to.deep.equal([]);
      }
    }
    // the host's text is there, escaped, where hotswap reports on the host
    const argv0 = 'nginx\\x1b[2J\\x1b]52;c;aGk=\\x07\\x9b31m\\r[lab-2]\\x08changed';
    expect(plan.code, plan.stderr).to.equal(4);
    expect(plan.stdout).to.include(argv0);
    expect(apply.code, apply.stderr).to.equal(4);
    const owner = 'evil\\x1b]52;c;aGk=\\x07\\x1b[2J\\r\\n[lab-2] changed\\u202e@ctl\\x9b2J';
    expect(apply.stderr, apply.stderr).to.match(/^\[lab-1\] refused \(\S+\): locked: /m);
    expect(apply.stderr).to.include(owner);
    expect(apply.stdout).to.match(/^lab-1 +ok=0 .*failed=1 .* refused: locked: /m);
    // the recap folds a message's line breaks into blanks; the rest is escaped
    expect(apply.stdout).to.include('evil\\x1b]52;c;aGk=\\x07\\x1b[2J [lab-2] changed\\u202e@ctl\\x9b2J');
    expect(status.stdout).to.include(argv0);
    expect(status.stdout).to.match(/^ {2}lock: held: /m);
  });
});
