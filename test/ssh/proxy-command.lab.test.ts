// ProxyCommand end to end: hotswap reaches the lab's sshd through
// `ssh -W %h:%p` via a second sshd, under `Host` and inside a `Match` block.
import { expect } from 'chai';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startLabFleet, type LabFleet } from '../../lab/fleet.js';
import { startSshd, type Sshd } from '../../lab/sshd.js';
import { runCli } from '../cli/run-cli.js';
import { eventually, hostItem, openTempDir, writePlaybook } from './helpers.js';

const forwarded = (log: string, port: number) => new RegExp(`target 127\\.0\\.0\\.1 port ${port}\r?\n`).test(log);

describe('ssh: ProxyCommand with real sshd servers', function () {
  this.timeout(120_000);
  let dir: string;
  let fleet: LabFleet;
  let hop: Sshd;
  let knownHosts: string;

  before(async () => {
    dir = await openTempDir('hotswap-proxycmd-');
    fleet = await startLabFleet({ dir: join(dir, 'fleet'), hosts: 1 });
    const clientKey = (await readFile(`${fleet.sshd.identityFile}.pub`, 'utf8')).trim();
    hop = await startSshd({ dir: join(dir, 'hop'), logLevel: 'DEBUG', authorizedKeys: [clientKey], extraConfig: [`PermitOpen 127.0.0.1:${fleet.sshd.port}`] });
    knownHosts = join(dir, 'known_hosts');
    await writeFile(knownHosts, [fleet.sshd, hop].map((s) => `[127.0.0.1]:${s.port} ${s.hostKeyPublic}\n`).join(''));
  });
  after(async () => {
    await hop?.stop();
    await fleet?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const sshW = () => `ssh -F none -o BatchMode=yes -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes -i ${fleet.sshd.identityFile} -p ${hop.port} -l ${fleet.user.name} -W %h:%p 127.0.0.1`;
  const playbook = async (name: string, config: string) => {
    const cfg = join(dir, `${name}.ssh_config`);
    await writeFile(cfg, config);
    const h = fleet.hosts[0]!;
    return writePlaybook(join(dir, `${name}.yaml`), {
      build: fleet.builds.new.path,
      hosts: [hostItem('lab-1', h, { address: 'target.internal', user: fleet.user.name })],
      ssh: { identity_file: fleet.sshd.identityFile, known_hosts: knownHosts, config_file: cfg },
    });
  };

  it('status goes through a ProxyCommand under Host (ssh -W %h:%p)', async () => {
    const before = hop.output().length;
    const file = await playbook('host', `Host target.internal\n  HostName 127.0.0.1\n  Port ${fleet.sshd.port}\n  ProxyCommand ${sshW()}\n`);
    const r = await runCli(['status', file]);
    expect(r.code, r.stderr).to.equal(0);
    await eventually('the hop sshd log', () => forwarded(hop.output().slice(before), fleet.sshd.port));
  });

  it('honours a ProxyCommand inside a Match block (never connects around it)', async () => {
    const before = hop.output().length;
    const file = await playbook('match', `Host target.internal\n  HostName 127.0.0.1\n  Port ${fleet.sshd.port}\nMatch originalhost target.internal exec "test -r ${knownHosts}"\n  ProxyCommand ${sshW()}\n`);
    const r = await runCli(['status', file]);
    expect(r.code, r.stderr).to.equal(0);
    await eventually('the hop sshd log', () => forwarded(hop.output().slice(before), fleet.sshd.port));
  });

  it('a failing ProxyCommand makes the host unreachable at once, with its status and stderr in the error (exit 3)', async () => {
    const file = await playbook('fail', `Host target.internal\n  HostName 127.0.0.1\n  Port ${fleet.sshd.port}\n  ProxyCommand sh -c 'echo "no route to %h:%p" >&2; exit 7'\n`);
    const started = Date.now();
    const r = await runCli(['status', file]);
    const took = Date.now() - started;
    const out = r.stdout + r.stderr;
    expect(r.code, out).to.equal(3);
    // noticed when the command exits, not at the 10 s connect timeout
    expect(took, `reported after ${took} ms`).to.be.below(3_000);
    expect(out).to.contain('no route to 127.0.0.1:' + fleet.sshd.port);
    expect(out).to.contain('exited with status 7');
  });

  it('the command\'s exit ends the connection even when a child of it still holds its stdout', async () => {
    // the background sleep keeps the pipe open for 2 s (bounded: it ends by itself)
    const file = await playbook('orphan', `Host target.internal\n  HostName 127.0.0.1\n  ProxyCommand sh -c '(sleep 2 2>/dev/null &); echo "tunnel down" >&2; exit 9'\n`);
    const started = Date.now();
    const r = await runCli(['status', file]);
    const took = Date.now() - started;
    const out = r.stdout + r.stderr;
    expect(r.code, out).to.equal(3);
    expect(out).to.contain('tunnel down');
    expect(out).to.contain('exited with status 9');
    expect(took, `reported after ${took} ms`).to.be.below(1_900);
  });
});
