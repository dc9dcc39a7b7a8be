// Which keys to offer a server, in order: ssh-agent, then identity files,
// encrypted ones unlocked with a passphrase from the environment or the terminal.
import { readFile } from 'node:fs/promises';
import { NoTerminalError } from './hidden-prompt.js';
import { ssh2, type AgentLike, type ParsedKey } from './ssh2.js';

export type { ParsedKey };

export type AuthMethod =
  | { type: 'agent'; agent: AgentLike; label: string }
  | { type: 'publickey'; key: ParsedKey; label: string };

export interface IdentitySpec {
  path: string;
  /** named by the playbook or inventory: a missing file is an error, not skipped */
  explicit: boolean;
}

export interface AuthOptions {
  identityFiles: IdentitySpec[];
  /** like IdentitiesOnly: offer only agent keys that match an identity file */
  identitiesOnly?: boolean;
  /** ssh-agent socket, or null */
  agent: string | null;
  /** name of the environment variable holding the passphrase of encrypted keys */
  passphraseEnv?: string;
  /** asks on the terminal; rejects with NoTerminalError when there is none */
  ask?: (question: string) => Promise<string>;
}

export interface Auth {
  methods: AuthMethod[];
  /** keys that could not be used, and why: added to an authentication failure */
  skipped: string[];
}

/** The identity could not be used at all: the host is unreachable with this reason. */
export class IdentityError extends Error {}

const PROMPT_TRIES = 3;
/** decrypted keys by file (and passphrase source): one prompt per key per run */
const unlocked = new Map<string, Promise<ParsedKey | string>>();

// Why: like `ssh`, offer agent keys first, then each identity file in order;
// a file whose key the agent holds is not read twice, and a passphrase is only
// asked for a key the agent cannot sign with.
export async function prepareAuth(opts: AuthOptions): Promise<Auth> {
  const agentKeys = opts.agent ? await listAgent(opts.agent) : null;
  const agentBlobs = new Set((agentKeys ?? []).map((k) => k.getPublicSSH().toString('base64')));
  const fileMethods: AuthMethod[] = [];
  const skipped: string[] = [];
  const fromFiles = new Set<string>();

  for (const { path, explicit } of opts.identityFiles) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      if (explicit) throw new IdentityError(`cannot read identity file ${path}: ${code}`);
      if (code !== 'ENOENT') skipped.push(`${path}: cannot read it (${code})`);
      continue;
    }
    const plain = first(ssh2().utils.parseKey(text));
    if (!(plain instanceof Error)) {
      if (!plain.isPrivateKey()) {
        if (explicit) throw new IdentityError(`identity file ${path} holds no private key`);
        continue;
      }
      const blob = plain.getPublicSSH().toString('base64');
      fromFiles.add(blob);
      if (!agentBlobs.has(blob)) fileMethods.push({ type: 'publickey', key: plain, label: path });
      continue;
    }
    if (!isEncrypted(text)) {
      if (explicit) throw new IdentityError(`cannot use identity file ${path}: ${plain.message.split('\n')[0]}`);
      skipped.push(`${path}: ${plain.message.split('\n')[0]}`);
      continue;
    }
    const pub = await publicBlobOf(path, text);
    if (pub) fromFiles.add(pub);
    if (pub && agentBlobs.has(pub)) continue; // the agent signs for it: no passphrase needed
    const key = await unlock(path, text, opts);
    if (typeof key === 'string') skipped.push(key);
    else fileMethods.push({ type: 'publickey', key, label: `${path} (unlocked)` });
  }

  const methods: AuthMethod[] = [];
  if (agentKeys && opts.agent) {
    const offered = opts.identitiesOnly ? agentKeys.filter((k) => fromFiles.has(k.getPublicSSH().toString('base64'))) : agentKeys;
    if (offered.length) methods.push({ type: 'agent', agent: fixedAgent(opts.agent, offered), label: `ssh-agent (${offered.length} key${offered.length === 1 ? '' : 's'})` });
  }
  methods.push(...fileMethods);
  if (!methods.length) {
    const why = skipped.length ? skipped.join('; ') : `no identity file found (${opts.identityFiles.map((i) => i.path).join(', ')}) and ${opts.agent ? 'ssh-agent holds no usable key' : 'no ssh-agent (SSH_AUTH_SOCK)'}`;
    throw new IdentityError(why);
  }
  return { methods, skipped };
}

function first(k: ParsedKey | ParsedKey[] | Error): ParsedKey | Error {
  return Array.isArray(k) ? (k[0] ?? new Error('no key in the file')) : k;
}

/** The agent's keys; an agent that does not answer is treated as absent. */
function listAgent(socket: string): Promise<ParsedKey[] | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), 2_000);
    new (ssh2().OpenSSHAgent)(socket).getIdentities((err, keys) => {
      clearTimeout(timer);
      resolve(err ? null : keys ?? []);
    });
  });
}

// An agent that lists only the given keys (IdentitiesOnly), signing through the real one.
function fixedAgent(socket: string, keys: ParsedKey[]): AgentLike {
  const Agent = ssh2().OpenSSHAgent as unknown as new (s: string) => AgentLike;
  const agent = new Agent(socket);
  agent.getIdentities = (cb) => cb(null, keys);
  return agent;
}

async function unlock(path: string, text: string, opts: AuthOptions): Promise<ParsedKey | string> {
  const env = opts.passphraseEnv;
  const fromEnv = env !== undefined && process.env[env] !== undefined;
  const cacheKey = `${path}\0${fromEnv ? `env:${env}` : opts.ask ? 'ask' : 'none'}`;
  let p = unlocked.get(cacheKey);
  if (!p) {
    p = decrypt(path, text, opts, fromEnv);
    unlocked.set(cacheKey, p);
  }
  return p;
}

async function decrypt(path: string, text: string, opts: AuthOptions, fromEnv: boolean): Promise<ParsedKey | string> {
  const env = opts.passphraseEnv;
  if (fromEnv) {
    const key = first(ssh2().utils.parseKey(text, process.env[env!]!));
    if (key instanceof Error) throw new IdentityError(`the passphrase in $${env} does not unlock identity file ${path}`);
    return key;
  }
  const unset = env ? ` (ssh.identity_passphrase_env names ${env}, which is not set)` : '';
  const unavailable = `identity file ${path} is passphrase-protected and no passphrase is available${unset}: ` +
    'set ssh.identity_passphrase_env to the name of an environment variable holding it, run hotswap on a terminal to be asked, ' +
    'or load the key into ssh-agent (ssh-add)';
  if (!opts.ask) return unavailable;
  for (let i = 1; i <= PROMPT_TRIES; i++) {
    let passphrase: string;
    try {
      passphrase = await opts.ask(`${i > 1 ? 'Bad passphrase, try again. ' : ''}Enter passphrase for key '${path}': `);
    } catch (e) {
      if (e instanceof NoTerminalError) return unavailable;
      throw new IdentityError(`identity file ${path}: ${(e as Error).message}`);
    }
    const key = first(ssh2().utils.parseKey(text, passphrase));
    if (!(key instanceof Error)) return key;
  }
  throw new IdentityError(`identity file ${path}: wrong passphrase (${PROMPT_TRIES} tries)`);
}

// Why: an encrypted key must be unlocked (or found in the agent) before use;
// PEM (`Proc-Type`), PKCS#8 and OpenSSH's own format each say so differently.
export function isEncrypted(pem: string): boolean {
  if (/Proc-Type: 4,ENCRYPTED|BEGIN ENCRYPTED PRIVATE KEY/.test(pem)) return true;
  const raw = opensshBody(pem);
  if (!raw) return false;
  const cipher = sshString(raw, 15);
  return cipher !== null && cipher.value.toString('latin1') !== 'none';
}

// The public half of an encrypted key: stored in clear in OpenSSH's format,
// else in the `.pub` file beside it.
async function publicBlobOf(path: string, pem: string): Promise<string | null> {
  const raw = opensshBody(pem);
  if (raw) {
    let off = 15;
    for (let i = 0; i < 3; i++) {
      const s = sshString(raw, off);
      if (!s) return null;
      off = s.end;
    }
    const count = raw.length >= off + 4 ? raw.readUInt32BE(off) : 0;
    const pub = count >= 1 ? sshString(raw, off + 4) : null;
    if (pub) return pub.value.toString('base64');
  }
  const pubText = await readFile(`${path}.pub`, 'utf8').catch(() => '');
  return pubText.trim().split(/\s+/)[1] ?? null;
}

function opensshBody(pem: string): Buffer | null {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END/.exec(pem);
  if (!m) return null;
  const raw = Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  return raw.toString('latin1', 0, 15) === 'openssh-key-v1\0' ? raw : null;
}

function sshString(buf: Buffer, off: number): { value: Buffer; end: number } | null {
  if (buf.length < off + 4) return null;
  const len = buf.readUInt32BE(off);
  if (buf.length < off + 4 + len) return null;
  return { value: buf.subarray(off + 4, off + 4 + len), end: off + 4 + len };
}
