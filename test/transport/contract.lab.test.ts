import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSshd, type Sshd } from '../../lab/sshd.js';
import { LocalTransport } from '../../src/transport/local.js';
import { connectOpenssh } from '../../src/transport/openssh.js';
import { connectSsh } from '../../src/transport/ssh.js';
import { contract } from './contract.js';

contract('local', async () => ({ transport: new LocalTransport('localhost'), cleanup: async () => {}, freeBytes: true }));

let sshd: Sshd | undefined;
contract('ssh', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hotswap-sshd-'));
  sshd = await startSshd({ dir });
  const transport = await connectSsh({
    host: 'lab-ssh', address: '127.0.0.1', port: sshd.port, user: sshd.user, identityFile: sshd.identityFile,
    connectTimeoutMs: 5_000, hostKeyChecking: 'strict', knownHostsFile: sshd.knownHostsFile,
  });
  return {
    transport,
    freeBytes: true,
    cleanup: async () => {
      await sshd?.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

// The operator's own ssh, multiplexed: the lab host is named only in an ssh
// config (HostName, Port, User, IdentityFile, known_hosts), which ssh reads itself.
let sshdForOpenssh: Sshd | undefined;
contract('openssh', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hotswap-sshd-'));
  sshdForOpenssh = await startSshd({ dir });
  const s = sshdForOpenssh;
  const config = join(dir, 'ssh_config');
  await writeFile(config, [
    'Host lab-openssh',
    '  HostName 127.0.0.1',
    `  Port ${s.port}`,
    `  User ${s.user}`,
    `  IdentityFile ${s.identityFile}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${s.knownHostsFile}`,
    '  StrictHostKeyChecking yes',
    '',
  ].join('\n'));
  const transport = await connectOpenssh({ host: 'lab-openssh', destination: 'lab-openssh', configFile: config, connectTimeoutMs: 5_000 });
  return {
    transport,
    freeBytes: { no: 'over ssh it would start a process (df) on the host' },
    cleanup: async () => {
      await sshdForOpenssh?.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
