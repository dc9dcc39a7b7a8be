// Which SSH client reaches a host: the built-in one where it does exactly
// what `ssh` would, the system ssh (ssh.client: openssh) where the host needs
// something only OpenSSH can do. Pure: the facts (known_hosts lines, key
// types, config values) are read elsewhere and come in as arguments.
import { entryMatches, hostToken, type HostLookup, type KnownHostEntry } from '../transport/known-hosts.js';
import type { HostKeyChecking } from '../playbook/vocabulary.js';

export type Sourced<T> = { value: T; at: string };

/** What decides the client for one hop (the host itself, or a bastion on the way). */
export interface HopFacts {
  /** the host's name, or the bastion as written in the jump list */
  label: string;
  /** the name and port known_hosts is searched for (HostKeyAlias, or the address) */
  lookup: HostLookup;
  hostKeyChecking: HostKeyChecking;
  /** every known_hosts line the hop is checked against (user and global files) */
  knownHosts: KnownHostEntry[];
  /** the identity files ssh would offer that exist, with the key type read from them (null when unreadable) */
  identities: { path: string; keyType: string | null; certificate?: string }[];
  /** PKCS11Provider (not `none`) from the ssh config */
  pkcs11Provider?: Sourced<string>;
  /** GSSAPIAuthentication from the ssh config */
  gssapiAuthentication?: Sourced<boolean>;
  /** the Kerberos credential cache found on this machine (KRB5CCNAME, /tmp/krb5cc_UID), or null */
  kerberosCache: string | null;
}

export type ClientChoice = { client: 'builtin' } | { client: 'openssh'; reason: string };

/** FIDO security keys (ssh-keygen -t ed25519-sk / ecdsa-sk): signing needs ssh's own sk middleware. */
export const SECURITY_KEY_TYPES = ['sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com'];

// Why: the built-in client is the fast default, but only where it does what
// ssh would do; otherwise a host that `ssh` reaches would be refused (a
// certified host key), or logged in to with other credentials. Every hop
// counts: ssh reaches the bastions too when it takes the host.
export function chooseClient(hops: readonly HopFacts[]): ClientChoice {
  for (const [i, hop] of hops.entries()) {
    const why = opensshOnly(hop);
    if (why) return { client: 'openssh', reason: i === hops.length - 1 ? why : `its bastion ${hop.label}: ${why}` };
  }
  return { client: 'builtin' };
}

/** What this hop needs that only OpenSSH does, in a few words for the operator; null when nothing. */
export function opensshOnly(hop: HopFacts): string | null {
  const ca = certAuthorityOnly(hop);
  if (ca) return `its host key is certified by the @cert-authority at ${ca.file}:${ca.line}, which the built-in client cannot check`;
  const sk = hop.identities.find((k) => k.keyType !== null && SECURITY_KEY_TYPES.includes(k.keyType));
  if (sk) return `its identity file ${sk.path} is a FIDO security key (${sk.keyType}), which the built-in client cannot use`;
  const cert = hop.identities.find((k) => k.certificate !== undefined);
  if (cert) return `its identity file ${cert.path} has a user certificate (${cert.certificate}), which the built-in client cannot present`;
  if (hop.pkcs11Provider) return `PKCS11Provider ${hop.pkcs11Provider.value} at ${hop.pkcs11Provider.at} (keys on a token), which the built-in client cannot use`;
  // Debian's own /etc/ssh/ssh_config says GSSAPIAuthentication yes: without a
  // Kerberos ticket ssh's attempt fails at once and it goes on as the built-in client does.
  if (hop.gssapiAuthentication?.value && hop.kerberosCache) {
    return `GSSAPIAuthentication yes at ${hop.gssapiAuthentication.at} with a Kerberos ticket cache (${hop.kerberosCache}), which the built-in client cannot use`;
  }
  return null;
}

// Why: a host known only through a @cert-authority line is accepted by ssh
// when it presents a certificate from that CA; the built-in client cannot
// negotiate certificates, so it would see the plain key and call it unknown.
// When a plain key is also recorded (and not @revoked), the built-in client
// checks that key exactly. With checking off, nothing is checked anyway.
// Looked up as ssh does: `[host]:port`, then port-less `host` for a port
// other than 22 without HostKeyAlias.
export function certAuthorityOnly(hop: Pick<HopFacts, 'lookup' | 'hostKeyChecking' | 'knownHosts'>): KnownHostEntry | null {
  if (hop.hostKeyChecking === 'off') return null;
  const { name, port, alias } = hop.lookup;
  const tokens = [hostToken(name, alias ? 22 : port)];
  if (!alias && port !== 22) tokens.push(hostToken(name, 22));
  const forHost = hop.knownHosts.filter((e) => tokens.some((t) => entryMatches(e, t)));
  const revoked = (e: KnownHostEntry) => forHost.some((r) => r.marker === 'revoked' && r.keyBase64 === e.keyBase64);
  if (forHost.some((e) => e.marker === null && !revoked(e))) return null;
  return forHost.find((e) => e.marker === 'cert-authority' && !revoked(e)) ?? null;
}

/** The line said once per host when it is handed to the system ssh. */
export function handOffNote(host: string, reason: string): string {
  return `${host}: ${reason}; connecting with the system ssh (ssh.client: openssh)`;
}

/** The warning said once per host when `ssh.client: builtin` keeps it from the system ssh. */
export function pinnedNote(host: string, reason: string): string {
  return `${host}: ${reason}; ssh.client: builtin is set, so the built-in client tries anyway (without that setting hotswap would connect with the system ssh)`;
}
