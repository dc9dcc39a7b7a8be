// What one SSH operation costs a host: CPU (from a cgroup around the lab sshd,
// so every session and every command it runs is counted) and wall time, for
// the operations an upgrade is made of. Read with the round-trip census, this
// says where the hosts' side of an upgrade goes. Uses the same client library
// as hotswap (node-ssh over ssh2) with TCP_NODELAY, as hotswap's transport does.
import { readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { NodeSSH } from 'node-ssh';
import { labFleet } from './runs.js';
import { FACTS_SCRIPT } from '../src/nginx/scripts.js';
import { median, untilNoChildren } from './util.js';
import { SHELL_COMMAND, ShellSession, type ShellChannel } from '../src/transport/shell-session.js';

function openShell(ssh: NodeSSH): Promise<ShellSession> {
  const client = ssh.connection as unknown as { exec(cmd: string, cb: (err: Error | undefined, ch: ShellChannel) => void): void };
  return new Promise((resolve, reject) => client.exec(SHELL_COMMAND, (err, ch) => (err ? reject(err) : resolve(new ShellSession(ch, () => undefined)))));
}

export interface UnitCost {
  name: string;
  n: number;
  /** host CPU per operation (ms); NaN without cgroups */
  hostCpuMs: number;
  wallMs: number;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export async function unitCosts(workDir: string): Promise<UnitCost[]> {
  const { fleet, account, stop } = await labFleet(join(workDir, 'unit-costs'), 1);
  const counted = !!account;
  const h = fleet.hosts[0];
  const blob = Buffer.from(fleet.sshd.hostKeyPublic.split(' ')[1], 'base64');
  const sock = () => new Promise<Socket>((resolve, reject) => {
    const s = tcpConnect({ host: '127.0.0.1', port: fleet.sshd.port, noDelay: true });
    s.once('connect', () => resolve(s)).once('error', reject);
  });
  const open = async () => {
    const ssh = new NodeSSH();
    await ssh.connect({
      sock: await sock(), username: fleet.user.name, privateKey: readFileSync(fleet.sshd.identityFile, 'utf8'),
      hostVerifier: (key: Buffer) => Buffer.from(key).equals(blob),
    } as never);
    return ssh;
  };
  const out: UnitCost[] = [];
  const unit = async (name: string, n: number, op: (ssh: NodeSSH | null) => Promise<unknown>, connected = true, prepare?: (ssh: NodeSSH) => Promise<unknown>) => {
    const ssh = connected ? await open() : null;
    if (ssh && prepare) await prepare(ssh);
    await untilNoChildren(fleet.sshd.pid, 200); // not a session: the connection's own processes
    const cpu0 = counted ? account!.seconds() : NaN;
    const wall: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await op(ssh);
      wall.push(performance.now() - t);
    }
    // a connection's own close is not part of what its operations cost
    if (ssh) await new Promise((r) => setTimeout(r, 50));
    else await untilNoChildren(fleet.sshd.pid);
    const cpu1 = counted ? account!.seconds() : NaN;
    ssh?.dispose();
    out.push({ name, n, hostCpuMs: ((cpu1 - cpu0) * 1000) / n, wallMs: median(wall) });
  };
  const exec = async (ssh: NodeSSH | null, cmd: string) => {
    const r = await ssh!.execCommand(cmd);
    if (r.code !== 0) throw new Error(`${cmd.slice(0, 60)}… exited ${r.code}: ${r.stderr}`);
  };
  try {
    await unit('SSH connection (handshake, auth, close)', 10, async () => {
      const ssh = await open();
      ssh.dispose();
    }, false);
    await unit('one exec round trip: `sh -c true`', 30, (ssh) => exec(ssh, 'sh -c true'));
    // how hotswap runs its commands: one long-lived shell per connection (each
    // unit has a connection of its own), opened before the unit is measured
    const shells = new Map<NodeSSH, Promise<ShellSession>>();
    const shellOf = (ssh: NodeSSH) => shells.get(ssh) ?? shells.set(ssh, openShell(ssh)).get(ssh)!;
    await unit('one command in the long-lived shell: `sh -c true`', 30, async (ssh) => {
      const r = await (await shellOf(ssh!)).run(['sh', '-c', 'true']);
      if (r.code !== 0) throw new Error(`sh -c true exited ${r.code} in the shell: ${r.stderr}`);
    }, true, shellOf);
    await unit('the facts script, in the long-lived shell', 10, async (ssh) => {
      const r = await (await shellOf(ssh!)).run(['sh', '-c', FACTS_SCRIPT, 'hotswap', h.pidFile, h.binaryPath, h.errorLog]);
      if (r.code !== 0) throw new Error(`the facts script exited ${r.code}: ${r.stderr}`);
    }, true, shellOf);
    await unit('`sha256sum` of the nginx binary (1.2 MB)', 10, (ssh) => exec(ssh, `sh -c 'sha256sum < "$1"' hotswap ${q(h.binaryPath)}`));
    await unit('`nginx -t` of the running config', 10, (ssh) => exec(ssh, `${q(h.binaryPath)} -p ${q(`${h.root}/`)} -c ${q(`${h.root}/conf/nginx.conf`)} -t -q`));
    await unit('SFTP upload of the new build', 5, (ssh) => ssh!.putFile(fleet.builds.new.path, `${h.root}/sbin/.bench-upload`));
    return out;
  } finally {
    await stop();
  }
}
