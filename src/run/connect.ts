// From a resolved host to a transport: `local`, or one SSH connection with
// the playbook's settings (host key checking strict unless told otherwise).
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Playbook } from '../playbook/schema.js';
import type { ResolvedHost } from '../playbook/resolved.js';
import { parseDuration } from '../playbook/duration.js';
import { LocalTransport } from '../transport/local.js';
import { connectSsh } from '../transport/ssh.js';
import type { Transport } from '../transport/transport.js';

export function connector(playbook: Playbook): (host: ResolvedHost) => Promise<Transport> {
  const ssh = playbook.ssh ?? {};
  return async (host) => {
    if (host.connection === 'local') return new LocalTransport(host.name);
    return connectSsh({
      host: host.name,
      address: host.ssh.address,
      port: host.ssh.port ?? 22,
      user: host.ssh.user ?? userInfo().username,
      identityFile: host.ssh.identityFile,
      connectTimeoutMs: parseDuration(ssh.connect_timeout ?? '10s') ?? 10_000,
      keepaliveIntervalMs: 15_000,
      hostKeyChecking: ssh.host_key_checking ?? 'strict',
      knownHostsFile: ssh.known_hosts ?? join(homedir(), '.ssh', 'known_hosts'),
    });
  };
}
