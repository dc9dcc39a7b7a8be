// ssh.client: openssh — from a resolved host to a transport through the
// operator's own ssh. hotswap does not read ~/.ssh/config here: ssh does, and
// only the playbook's own settings are given to it on its command line.
import { homedir } from 'node:os';
import { UsageError } from '../errors.js';
import { parseDuration } from '../playbook/duration.js';
import type { ResolvedHost } from '../playbook/resolved.js';
import type { Playbook } from '../playbook/schema.js';
import { expandTilde } from '../ssh-config/tokens.js';
import { becomeAsAsked } from './become.js';
import { LocalTransport } from './local.js';
import { connectOpenssh } from './openssh.js';
import type { Transport } from './transport.js';

let warnedOff = false;

// Why: what ssh would not apply is refused before any host is touched, never dropped.
export function opensshConnector(playbook: Playbook): (host: ResolvedHost) => Promise<Transport> {
  const ssh = playbook.ssh ?? {};
  const problem = opensshProblem(ssh);
  if (problem) throw new UsageError(`ssh.client: openssh: ${problem}`);
  const home = homedir();
  const timeout = ssh.connect_timeout !== undefined ? parseDuration(ssh.connect_timeout) : undefined;
  return async (host) => {
    if (host.connection === 'local') return new LocalTransport(host.name);
    if (ssh.host_key_checking === 'off' && !warnedOff) {
      warnedOff = true;
      process.stderr.write('WARNING: host key checking is OFF (host_key_checking: off, passed to ssh as StrictHostKeyChecking no). ' +
        'Host keys are not verified, so anyone on the network path can impersonate a host and receive your commands and binaries.\n');
    }
    const t = await connectOpenssh({
      host: host.name,
      destination: host.ssh.address,
      ...(host.ssh.user !== undefined ? { user: host.ssh.user } : {}),
      ...(host.ssh.port !== undefined ? { port: host.ssh.port } : {}),
      ...(host.ssh.identityFile !== undefined ? { identityFile: expandTilde(host.ssh.identityFile, home) } : {}),
      ...(ssh.config_file !== undefined ? { configFile: expandTilde(ssh.config_file, home) } : {}),
      ...(ssh.proxy_jump !== undefined ? { proxyJump: ssh.proxy_jump } : {}),
      ...(ssh.known_hosts !== undefined ? { knownHostsFile: expandTilde(ssh.known_hosts, home) } : {}),
      ...(ssh.host_key_checking !== undefined ? { hostKeyChecking: ssh.host_key_checking } : {}),
      ...(timeout !== undefined ? { connectTimeoutMs: timeout } : {}),
    });
    return becomeAsAsked(t, ssh);
  };
}

/**
 * A playbook setting this client cannot honour, said plainly; undefined when all apply.
 * `orBuiltin`: the operator chose this client and may go back to the built-in one.
 */
export function opensshProblem(ssh: NonNullable<Playbook['ssh']>, orBuiltin = true): string | undefined {
  const or = orBuiltin ? ', or use ssh.client: builtin' : '';
  if (ssh.identity_passphrase_env !== undefined) {
    return `ssh.identity_passphrase_env cannot be given to ssh (it never prompts here): load the key into ssh-agent (ssh-add)${or}`;
  }
  // `ssh -J` runs the bastion's ssh with the config only: these would not reach it
  if (ssh.proxy_jump !== undefined && ssh.proxy_jump !== 'none') {
    const lost = [
      ...(ssh.known_hosts !== undefined ? ['ssh.known_hosts'] : []),
      ...(ssh.host_key_checking !== undefined && ssh.host_key_checking !== 'strict' ? [`ssh.host_key_checking: ${ssh.host_key_checking}`] : []),
      ...(ssh.identity_file !== undefined ? ['ssh.identity_file'] : []),
    ];
    if (lost.length) {
      return `with ssh.proxy_jump, ssh connects to the bastion with your ssh config only, so ${lost.join(', ')} would not apply to it: ` +
        `set them for the bastion in your ssh config (a Host block) and remove them here${or}`;
    }
  }
  return undefined;
}
