// From a resolved host to a transport: `local`, or one SSH connection set up
// as `ssh HOST` would (~/.ssh/config, keys, agent, bastions), with the
// playbook's settings first, host keys checked on every hop, and `become: sudo`.
import { hostname, homedir, userInfo } from 'node:os';
import type { Duplex } from 'node:stream';
import type { Playbook } from '../playbook/schema.js';
import type { ResolvedHost } from '../playbook/resolved.js';
import { UsageError } from '../errors.js';
import { defaultConfigSources, loadSshConfig } from '../ssh-config/load.js';
import { SshConfigError } from '../ssh-config/parse.js';
import { parseProxyJump } from '../ssh-config/proxy-jump.js';
import { spawnProxyCommand } from '../ssh-config/proxy-command.js';
import { hostConfig, type HostConfig } from '../ssh-config/resolve.js';
import { becomeAsAsked } from '../transport/become.js';
import { promptHidden } from '../transport/hidden-prompt.js';
import { LocalTransport } from '../transport/local.js';
import { opensshConnector, opensshProblem } from '../transport/openssh-connector.js';
import { connectSsh, type SshConnection } from '../transport/ssh.js';
import { UnreachableError, type Transport } from '../transport/transport.js';
import { BastionPool, releasingBastions } from './bastions.js';
import { chooseClient, handOffNote, pinnedNote } from './client-choice.js';
import { hopFacts, KnownHostsCache, type FactsEnv } from './client-facts.js';
import { planSsh, type ConfigLookup, type HopPlan, type LocalFacts } from './ssh-plan.js';

export interface ConnectorOptions {
  /** the local facts (home, user, agent); default: this process's */
  local?: LocalFacts;
  /** asks for key passphrases; default: on the terminal when there is one */
  askPassphrase?: (question: string) => Promise<string>;
  /** says, once per host, why it is reached with the system ssh (or why it should be); default: a line on stderr */
  note?: (message: string, kind: 'note' | 'warning') => void;
  /** $KRB5CCNAME as seen by GSSAPI; default: this process's */
  krb5ccname?: string;
}

// Why: the fleet runner only knows "give me a transport for this host"; every
// SSH decision (config files, precedence, jumps, privilege) is made here.
// A broken ssh config or proxy_jump is a usage error before any host is touched.
export function connector(playbook: Playbook, options: ConnectorOptions = {}): (host: ResolvedHost) => Promise<Transport> {
  if (playbook.ssh?.client === 'openssh') return opensshConnector(playbook); // the operator's own ssh reads its config
  const ssh = playbook.ssh ?? {};
  const local = options.local ?? localFacts();
  let lookup: ConfigLookup;
  try {
    const loaded = loadSshConfig(defaultConfigSources(ssh.config_file, local.home), local.home);
    // one evaluation per host, user and port: `Match exec` commands run once
    const cache = new Map<string, HostConfig>();
    lookup = (h, preset = {}) => {
      const key = JSON.stringify([h, preset.user, preset.port]);
      return cache.get(key) ?? cache.set(key, hostConfig(loaded.files, { host: h, ...preset, local })).get(key)!;
    };
    if (ssh.proxy_jump !== undefined) parseProxyJump(ssh.proxy_jump);
  } catch (e) {
    if (e instanceof SshConfigError) throw new UsageError(`ssh config: ${e.message}`);
    throw new UsageError(`ssh: ${(e as Error).message}`);
  }
  const ask = options.askPassphrase ?? promptHidden;
  const hop = (h: HopPlan, sock: Duplex | undefined, via: string | undefined): Promise<SshConnection> =>
    !sock && h.proxyCommand ? viaProxyCommand(h, (s) => direct(h, s, `ProxyCommand at ${h.proxyCommand!.at}`)) : direct(h, sock, via);
  const direct = (h: HopPlan, sock: Duplex | undefined, via: string | undefined): Promise<SshConnection> =>
    connectSsh({
      host: h.label,
      address: h.address,
      port: h.port,
      user: h.user,
      identityFiles: h.identityFiles,
      identitiesOnly: h.identitiesOnly,
      agent: h.agent,
      ...(ssh.identity_passphrase_env ? { passphraseEnv: ssh.identity_passphrase_env } : {}),
      askPassphrase: ask,
      connectTimeoutMs: h.connectTimeoutMs,
      keepaliveIntervalMs: h.keepaliveIntervalMs,
      keepaliveCountMax: h.keepaliveCountMax,
      hostKeyChecking: h.hostKeyChecking,
      hostKeyCheckingFrom: h.hostKeyCheckingFrom,
      knownHostsFile: h.knownHostsFiles,
      globalKnownHostsFiles: h.globalKnownHostsFiles,
      hashKnownHosts: h.hashKnownHosts,
      ...(h.hostKeyAlias ? { hostKeyAlias: h.hostKeyAlias } : {}),
      ...(sock ? { sock } : {}),
      ...(via ? { via } : {}),
    });
  const bastions = new BastionPool(hop);
  const say = oncePerHost(options.note ?? ((m, kind) => void process.stderr.write(`hotswap: ${kind}: ${m}\n`)));
  const handOff = handOffTo(playbook, say);
  const known = new KnownHostsCache();
  const krb5ccname = options.krb5ccname ?? process.env.KRB5CCNAME;
  const factsEnv: FactsEnv = { home: local.home, uid: local.uid, ...(krb5ccname ? { krb5ccname } : {}) };

  return async (host) => {
    if (host.connection === 'local') return new LocalTransport(host.name);
    let plan;
    try {
      plan = planSsh(host, ssh, lookup, local);
    } catch (e) {
      throw new UnreachableError(host.name, `${host.name}: ${(e as Error).message}`);
    }
    const { target, jumps } = plan;
    // per host, before connecting: what only the system ssh can do goes to it
    const choice = chooseClient([...jumps, target].map((h) => hopFacts(h, known, factsEnv)));
    if (choice.client === 'openssh') {
      // an explicit `client: builtin` is the operator's word: kept, and told what it costs
      if (ssh.client !== 'builtin') return handOff(host, choice.reason);
      say(host.name, pinnedNote(host.name, choice.reason), 'warning');
    }
    let t: Transport;
    if (!jumps.length) {
      t = await hop(target, undefined, undefined);
    } else {
      const channel = await bastions.channelTo(jumps, target.address, target.port).catch((e: Error) => {
        throw new UnreachableError(host.name, `${host.name}: ${e.message}`);
      });
      try {
        t = releasingBastions(await hop(target, channel.sock, channel.via), channel.release);
      } catch (e) {
        await channel.release();
        throw e;
      }
    }
    return becomeAsAsked(t, ssh);
  };
}

type Say = (host: string, message: string, kind: 'note' | 'warning') => void;

// Why: a host is connected to again (status after apply, a rollback): its note is said once.
function oncePerHost(note: NonNullable<ConnectorOptions['note']>): Say {
  const said = new Set<string>();
  return (host, message, kind) => {
    if (said.has(host)) return;
    said.add(host);
    note(message, kind);
  };
}

// Why: a host that needs what only OpenSSH does is reached with the system
// ssh (the same playbook settings, ssh reading the same config), and says so;
// when the playbook has a setting ssh cannot be given, the host is refused
// with both reasons instead.
function handOffTo(playbook: Playbook, say: Say): (host: ResolvedHost, reason: string) => Promise<Transport> {
  let openssh: ((host: ResolvedHost) => Promise<Transport>) | undefined;
  return async (host, reason) => {
    const problem = opensshProblem(playbook.ssh ?? {}, false);
    if (problem) throw new UnreachableError(host.name, `${host.name}: ${reason}; the system ssh (ssh.client: openssh) could connect, but ${problem}`);
    say(host.name, handOffNote(host.name, reason), 'note');
    openssh ??= opensshConnector(playbook);
    return openssh(host);
  };
}

// Why: the connection runs over the command's stdio; the command lives as long
// as the connection, and when connecting fails its stderr says why.
async function viaProxyCommand(h: HopPlan, open: (sock: Duplex) => Promise<SshConnection>): Promise<SshConnection> {
  const proxy = spawnProxyCommand(h.proxyCommand!.command);
  let conn: SshConnection;
  try {
    conn = await open(proxy.sock);
  } catch (e) {
    await proxy.settled(1_000); // its exit status and the end of its stderr explain the failure
    proxy.kill();
    const err = e as Error;
    const text = `${err.message} (${proxy.describe()})`;
    throw err instanceof UnreachableError ? new UnreachableError(err.host, text) : new Error(text);
  }
  // the connection keeps every method it has; closing it also ends the command
  const close = conn.close.bind(conn);
  conn.close = async () => {
    try {
      await close();
    } finally {
      proxy.kill();
    }
  };
  return conn;
}


function localFacts(): LocalFacts {
  const me = userInfo();
  return {
    home: homedir(),
    user: me.username,
    uid: me.uid,
    hostname: hostname(),
    ...(process.env.SSH_AUTH_SOCK ? { sshAuthSock: process.env.SSH_AUTH_SOCK } : {}),
  };
}
