// What one SSH operation costs a host: CPU (from a cgroup around the lab sshd,
// so every session and every command it runs is counted) and wall time, for
// the operations an upgrade is made of. Read with the round-trip census, this
// says where the hosts' side of an upgrade goes. The connections are hotswap's
// own transport (src/transport/ssh.ts), so each operation is made as an upgrade makes it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { labFleet } from './runs.js';
import { scriptArgv } from '../src/remote/scripts.js';
import { median, untilNoChildren } from './util.js';
import { connectSsh, type SshConnection } from '../src/transport/ssh.js';

export interface UnitCost {
  name: string;
  n: number;
  /** host CPU per operation (ms); NaN without cgroups */
  hostCpuMs: number;
  wallMs: number;
}

export async function unitCosts(workDir: string): Promise<UnitCost[]> {
  const { fleet, account, stop } = await labFleet(join(workDir, 'unit-costs'), 1);
  const counted = !!account;
  const h = fleet.hosts[0];
  const open = () => connectSsh({
    host: h.name, address: '127.0.0.1', port: fleet.sshd.port, user: fleet.user.name, identityFile: fleet.sshd.identityFile, agent: null,
    connectTimeoutMs: 10_000, hostKeyChecking: 'strict', knownHostsFile: fleet.sshd.knownHostsFile,
  });
  const out: UnitCost[] = [];
  const unit = async (name: string, n: number, op: (ssh: SshConnection | null) => Promise<unknown>, connected = true, prepare?: (ssh: SshConnection) => Promise<unknown>) => {
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
    await ssh?.close();
    out.push({ name, n, hostCpuMs: ((cpu1 - cpu0) * 1000) / n, wallMs: median(wall) });
  };
  // an exec channel of its own (hotswap uses one for a command given stdin)
  const exec = async (ssh: SshConnection | null, argv: string[]) => {
    const r = await ssh!.exec(argv, { stdin: '' });
    if (r.code !== 0) throw new Error(`${argv.join(' ').slice(0, 60)}… exited ${r.code}: ${r.stderr}`);
  };
  // a command in the connection's long-lived shell
  const inShell = async (ssh: SshConnection | null, argv: string[]) => {
    const r = await ssh!.exec(argv);
    if (r.code !== 0) throw new Error(`${argv.join(' ').slice(0, 60)}… exited ${r.code} in the shell: ${r.stderr}`);
  };
  try {
    await unit('SSH connection (handshake, auth, close)', 10, async () => {
      const ssh = await open();
      await ssh.close();
    }, false);
    await unit('one exec round trip: `sh -c true`', 30, (ssh) => exec(ssh, ['sh', '-c', 'true']));
    // how hotswap runs its commands: one long-lived shell per connection (each
    // unit has a connection of its own), opened before the unit is measured
    const warm = (ssh: SshConnection) => inShell(ssh, ['true']);
    await unit('one command in the long-lived shell: `sh -c true`', 30, (ssh) => inShell(ssh, ['sh', '-c', 'true']), true, warm);
    await unit('the facts script, in the long-lived shell', 10, (ssh) => inShell(ssh, scriptArgv('facts', [h.pidFile, h.binaryPath, h.errorLog])), true, warm);
    await unit('`sha256sum` of the nginx binary (1.2 MB)', 10, (ssh) => exec(ssh, ['sh', '-c', 'sha256sum < "$1"', 'hotswap', h.binaryPath]));
    await unit('`nginx -t` of the running config', 10, (ssh) => exec(ssh, [h.binaryPath, '-p', `${h.root}/`, '-c', `${h.root}/conf/nginx.conf`, '-t', '-q']));
    const build = readFileSync(fleet.builds.new.path);
    await unit('SFTP upload of the new build', 5, (ssh) => ssh!.put(build, `${h.root}/sbin/.bench-upload`), true, (ssh) => ssh.put(Buffer.alloc(0), `${h.root}/sbin/.bench-upload`));
    return out;
  } finally {
    await stop();
  }
}
