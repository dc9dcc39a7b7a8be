// How to reach one host over SSH: the playbook's settings, then what
// ~/.ssh/config says for it, then defaults; and the same for every bastion on
// the way. Pure: the config lookup and the local facts come in as arguments.
import type { SshTarget } from '../playbook/resolved.js';
import type { Playbook } from '../playbook/schema.js';
import { parseDuration } from '../playbook/duration.js';
import { parseProxyJump, type JumpHop } from '../ssh-config/proxy-jump.js';
import type { HostConfig } from '../ssh-config/resolve.js';
import { expandTilde, expandTokens, type Tokens } from '../ssh-config/tokens.js';
import { expandProxyCommand } from '../ssh-config/proxy-command.js';
import type { IdentitySpec } from '../transport/identity.js';
import { DEFAULT_KEY_FILES, type HostKeyChecking } from '../playbook/vocabulary.js';

export type { HostKeyChecking };

export interface HopPlan {
  /** how messages name this hop: the host's name, or the jump host as written */
  label: string;
  address: string;
  port: number;
  user: string;
  identityFiles: IdentitySpec[];
  identitiesOnly: boolean;
  /** ssh-agent socket, or null for none */
  agent: string | null;
  /** checked in order; the first one is where accept-new writes */
  knownHostsFiles: string[];
  /** read, never written (/etc/ssh/ssh_known_hosts) */
  globalKnownHostsFiles: string[];
  hostKeyAlias?: string;
  hashKnownHosts: boolean;
  hostKeyChecking: HostKeyChecking;
  /** where host_key_checking came from, for the warning when it is off */
  hostKeyCheckingFrom: string;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  /** ProxyCommand with its tokens expanded: its stdin/stdout is the connection */
  proxyCommand?: { command: string; at: string };
  /** what only the system ssh can do (client-choice.ts): PKCS11Provider, GSSAPIAuthentication */
  pkcs11Provider?: { value: string; at: string };
  gssapiAuthentication?: { value: boolean; at: string };
}

/** The config lookup: the host as typed, and what the playbook already sets (like `ssh -l USER -p PORT`). */
export type ConfigLookup = (host: string, preset?: { user?: string; port?: number }) => HostConfig;

export interface SshPlan {
  /** bastions in the order they are connected through (first is dialled directly) */
  jumps: HopPlan[];
  target: HopPlan;
}

export interface LocalFacts {
  home: string;
  user: string;
  uid: number;
  hostname: string;
  sshAuthSock?: string;
}

export type PlaybookSsh = NonNullable<Playbook['ssh']>;

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_KEEPALIVE_MS = 15_000;
const MAX_JUMPS = 8;

// Why: the one place where precedence is decided. Explicit playbook settings
// (host entry, then `ssh:`) beat ~/.ssh/config, which beats defaults; a
// host's name or address is what one would type after `ssh`, so `Host`
// patterns match it and `HostName` replaces it. Bastions take their settings
// from the jump spec and their own config entry (like `ssh -J`), but host key
// checking, known_hosts and the timeout of the playbook apply to them too.
export function planSsh(host: { name: string; ssh: SshTarget }, ssh: PlaybookSsh, config: ConfigLookup, local: LocalFacts): SshPlan {
  const cfg = config(host.ssh.address, { user: host.ssh.user, port: host.ssh.port });
  const target = hopPlan(
    { label: host.name, host: host.ssh.address, user: host.ssh.user, port: host.ssh.port, identityFile: host.ssh.identityFile },
    ssh, cfg, local,
  );
  let jumpSpec: { value: string; at: string } | undefined;
  if (ssh.proxy_jump !== undefined) jumpSpec = { value: ssh.proxy_jump, at: 'ssh.proxy_jump' };
  else if (cfg.proxyJump) jumpSpec = cfg.proxyJump;
  else if (cfg.proxyCommand) target.proxyCommand = proxyCommandOf(cfg.proxyCommand, host.ssh.address, target);
  const jumps = jumpSpec ? jumpPlans(parseAt(jumpSpec), ssh, config, local, [host.ssh.address]) : [];
  return { jumps, target };
}

function jumpPlans(hops: JumpHop[], ssh: PlaybookSsh, config: ConfigLookup, local: LocalFacts, chain: string[]): SshPlan['jumps'] {
  if (!hops.length) return [];
  if (chain.length > MAX_JUMPS) throw new Error(`ProxyJump goes more than ${MAX_JUMPS} hops deep (${chain.join(' <- ')}): is there a loop?`);
  // The first hop is dialled as `ssh FIRST` would: its own ProxyJump applies.
  const first = hops[0]!;
  const preset = (h: JumpHop) => ({ user: h.user, port: h.port });
  const cfg = config(first.host, preset(first));
  let before: SshPlan['jumps'] = [];
  if (cfg.proxyJump) before = jumpPlans(parseAt(cfg.proxyJump), ssh, config, local, [...chain, first.host]);
  const asBastion = (h: JumpHop) => hopPlan(
    { label: h.host, host: h.host, user: h.user, port: h.port, identityFile: undefined, fallbackIdentity: ssh.identity_file },
    ssh, config(h.host, preset(h)), local,
  );
  const plans = hops.map(asBastion);
  // the first hop is dialled as `ssh FIRST` would: through its own ProxyCommand
  if (!cfg.proxyJump && cfg.proxyCommand) plans[0]!.proxyCommand = proxyCommandOf(cfg.proxyCommand, first.host, plans[0]!);
  return [...before, ...plans];
}

interface HopInput {
  label: string;
  /** as typed after `ssh`: matched against Host patterns */
  host: string;
  user?: string;
  port?: number;
  identityFile?: string;
  /** a bastion without IdentityFile in its config uses the playbook's identity_file */
  fallbackIdentity?: string;
}

function hopPlan(h: HopInput, ssh: PlaybookSsh, cfg: HostConfig, local: LocalFacts): HopPlan {
  // resolve.ts already applied HostName (%h expanded, lowercased as ssh does)
  const hostName = cfg.hostName?.value ?? h.host;
  const user = h.user ?? cfg.user?.value ?? local.user;
  const port = h.port ?? cfg.port?.value ?? 22;
  const tokens: Tokens = {
    h: hostName, n: h.host, p: String(port), r: user, u: local.user, d: local.home, i: String(local.uid),
    l: local.hostname, L: local.hostname.split('.')[0]!,
  };
  const file = (s: { value: string; at: string }) => expandTilde(expandAt(s, tokens), local.home);

  const identityFiles: IdentitySpec[] = [];
  const add = (path: string, explicit: boolean) => {
    if (!identityFiles.some((i) => i.path === path)) identityFiles.push({ path, explicit });
  };
  if (h.identityFile) add(expandTilde(h.identityFile, local.home), true);
  for (const f of cfg.identityFiles) add(file(f), false);
  if (!identityFiles.length && h.fallbackIdentity) add(expandTilde(h.fallbackIdentity, local.home), true);
  if (!identityFiles.length) for (const k of DEFAULT_KEY_FILES) add(`${local.home}/.ssh/${k}`, false);

  let agent: string | null = local.sshAuthSock || null;
  if (cfg.identityAgent) {
    const a = cfg.identityAgent.value;
    agent = a.toLowerCase() === 'none' ? null : a === 'SSH_AUTH_SOCK' ? local.sshAuthSock || null : file(cfg.identityAgent);
  }

  let knownHostsFiles: string[];
  let globalKnownHostsFiles: string[];
  if (ssh.known_hosts !== undefined) {
    knownHostsFiles = [expandTilde(ssh.known_hosts, local.home)];
    globalKnownHostsFiles = [];
  } else {
    const user = cfg.userKnownHostsFiles;
    knownHostsFiles = user ? user.value.map((f) => file({ value: f, at: user.at })) : [`${local.home}/.ssh/known_hosts`, `${local.home}/.ssh/known_hosts2`];
    const global = cfg.globalKnownHostsFiles;
    globalKnownHostsFiles = global ? global.value.map((f) => file({ value: f, at: global.at })) : ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];
  }

  let hostKeyChecking: HostKeyChecking = 'strict';
  let hostKeyCheckingFrom = 'the default';
  if (ssh.host_key_checking !== undefined) {
    hostKeyChecking = ssh.host_key_checking;
    hostKeyCheckingFrom = `host_key_checking: ${ssh.host_key_checking}`;
  } else if (cfg.strictHostKeyChecking) {
    const v = cfg.strictHostKeyChecking.value;
    hostKeyChecking = v === 'accept-new' ? 'accept-new' : v === 'no' ? 'off' : 'strict';
    hostKeyCheckingFrom = `StrictHostKeyChecking ${v} at ${cfg.strictHostKeyChecking.at}`;
  }

  const timeout = ssh.connect_timeout !== undefined ? parseDuration(ssh.connect_timeout) : undefined;
  return {
    label: h.label,
    address: hostName,
    port,
    user,
    identityFiles,
    identitiesOnly: cfg.identitiesOnly?.value ?? false,
    agent,
    knownHostsFiles,
    globalKnownHostsFiles,
    ...(cfg.hostKeyAlias ? { hostKeyAlias: cfg.hostKeyAlias.value } : {}),
    hashKnownHosts: cfg.hashKnownHosts?.value ?? false,
    hostKeyChecking,
    hostKeyCheckingFrom,
    connectTimeoutMs: timeout ?? (cfg.connectTimeout && cfg.connectTimeout.value > 0 ? cfg.connectTimeout.value * 1000 : DEFAULT_TIMEOUT_MS),
    keepaliveIntervalMs: cfg.serverAliveInterval ? cfg.serverAliveInterval.value * 1000 : DEFAULT_KEEPALIVE_MS,
    keepaliveCountMax: cfg.serverAliveCountMax?.value || 3,
    ...(cfg.pkcs11Provider ? { pkcs11Provider: cfg.pkcs11Provider } : {}),
    ...(cfg.gssapiAuthentication ? { gssapiAuthentication: cfg.gssapiAuthentication } : {}),
  };
}

function expandAt(s: { value: string; at: string }, tokens: Tokens): string {
  return expandTokens(s.value, tokens, s.at);
}

function parseAt(s: { value: string; at: string }): JumpHop[] {
  try {
    return parseProxyJump(s.value);
  } catch (e) {
    throw new Error(`${s.at}: ${(e as Error).message}`);
  }
}

function proxyCommandOf(c: { value: string; at: string }, typed: string, hop: HopPlan): { command: string; at: string } {
  try {
    return { command: expandProxyCommand(c.value, { h: hop.address, n: typed, p: String(hop.port), r: hop.user, k: hop.hostKeyAlias ?? typed }), at: c.at };
  } catch (e) {
    throw new Error(`${c.at}: ProxyCommand: ${(e as Error).message}`);
  }
}
