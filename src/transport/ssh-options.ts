// What connectSsh is given, and what it gives back: shared by the parts of
// the built-in SSH client (ssh-connect, host-key-policy, ssh-transport).
import type { Duplex } from 'node:stream';
import type { HostKeyChecking } from '../playbook/vocabulary.js';
import type { IdentitySpec } from './identity.js';
import type { Transport } from './transport.js';

export type SshOptions = {
  /** the host's name in the playbook (or a bastion as written in the jump list) */
  host: string;
  address: string;
  port: number;
  user: string;
  /** a private key named by the playbook: tried first, and an error when missing */
  identityFile?: string;
  /** more keys, tried in order (~/.ssh/config IdentityFile, defaults); `explicit` ones must exist */
  identityFiles?: IdentitySpec[];
  /** offer only agent keys matching an identity file (IdentitiesOnly) */
  identitiesOnly?: boolean;
  /** ssh-agent socket; default $SSH_AUTH_SOCK; null for none */
  agent?: string | null;
  /** name of the environment variable holding the passphrase of encrypted keys */
  passphraseEnv?: string;
  /** asks for a passphrase on the terminal; without it, encrypted keys need passphraseEnv or the agent */
  askPassphrase?: (question: string) => Promise<string>;
  connectTimeoutMs: number;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  hostKeyChecking: HostKeyChecking;
  /** where the setting came from, named in the warning when it is off */
  hostKeyCheckingFrom?: string;
  /** one file, or several checked in order; accept-new writes to the first */
  knownHostsFile: string | string[];
  /** read but never written (/etc/ssh/ssh_known_hosts) */
  globalKnownHostsFiles?: string[];
  /** accept-new writes hashed entries (HashKnownHosts yes) */
  hashKnownHosts?: boolean;
  /** look the key up under this name instead of the address (HostKeyAlias) */
  hostKeyAlias?: string;
  /** an open stream to the server (a channel forwarded by a bastion) instead of a TCP connection */
  sock?: Duplex;
  /** the bastion the stream goes through, for messages */
  via?: string;
};

/** An SSH transport that can say whether its connection is gone (for sharing bastions). */
export interface SshConnection extends Transport {
  lostReason(): string | null;
}
