// Connection and authentication for the built-in client: TCP (or a stream a
// bastion forwarded), the handshake with the host key checked by
// host-key-policy.ts, then the keys and agent of identity.ts offered in order.
import { connect, type Socket } from 'node:net';
import { DEFAULT_KEY_FILES } from '../playbook/vocabulary.js';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { hostKeyCheck } from './host-key-policy.js';
import { IdentityError, prepareAuth, type Auth } from './identity.js';
import { describeConnectError } from './ssh-errors.js';
import type { SshConnection, SshOptions } from './ssh-options.js';
import { SshTransport } from './ssh-transport.js';
import { ssh2, type Ssh2Client } from './ssh2.js';
import { UnreachableError } from './transport.js';

// Why: every step on a host goes through one SSH connection; opening it checks the
// host key against known_hosts before any credential is offered.
export async function connectSsh(given: SshOptions): Promise<SshConnection> {
  const knownFiles = (Array.isArray(given.knownHostsFile) ? given.knownHostsFile : [given.knownHostsFile]).map(expandHome);
  const opts: SshOptions = { ...given, knownHostsFile: knownFiles };
  const where = `${opts.host} (${opts.address}:${opts.port}${opts.via ? ` via ${opts.via}` : ''})`;
  const unreachable = (why: string) => new UnreachableError(opts.host, `${where}: ${why}`);
  const hostKey = await hostKeyCheck(opts, knownFiles, where, unreachable);
  // TCP first: the server accepts and starts its side of the session while the
  // keys are read (and, on the first connection, ssh2 is loaded). A socket
  // that did not survive that (a reset, or the server's LoginGraceTime passed
  // during a passphrase prompt) is replaced by a new one below.
  const opening = opts.sock ? Promise.resolve(opts.sock) : openSocket(opts, unreachable);
  let lostEarly = false;
  const keep = () => void (lostEarly = true); // kept, not thrown: ssh2 has no listener on it yet
  opening.then((s) => s.on('error', keep).once('close', keep), () => undefined);
  let auth: Auth;
  try {
    auth = await prepareAuth({
      identityFiles: [
        ...(opts.identityFile ? [{ path: expandHome(opts.identityFile), explicit: true }] : []),
        ...(opts.identityFiles ?? (opts.identityFile ? [] : DEFAULT_IDENTITIES())),
      ],
      identitiesOnly: opts.identitiesOnly,
      agent: opts.agent === undefined ? process.env.SSH_AUTH_SOCK || null : opts.agent,
      passphraseEnv: opts.passphraseEnv,
      ask: opts.askPassphrase,
    });
  } catch (e) {
    void opening.then((s) => s.destroy(), () => undefined);
    if (e instanceof IdentityError) throw unreachable(e.message);
    throw e;
  }

  const tried: string[] = [];
  const queue = [...auth.methods];
  const authHandler = () => {
    const m = queue.shift();
    if (!m) return false;
    tried.push(m.label);
    return m.type === 'agent' ? { type: 'agent', username: opts.user, agent: m.agent } : { type: 'publickey', username: opts.user, key: m.key };
  };

  // the handshake's time counts from here: a passphrase typed at a prompt is not part of it
  const started = Date.now();
  let sock = await opening;
  sock.off('error', keep).off('close', keep);
  if (lostEarly && !opts.sock) {
    sock.destroy();
    sock = await openSocket(opts, unreachable);
  }
  const client = new (ssh2().Client)();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('deadline')), opts.connectTimeoutMs + 1_000 - (Date.now() - started));
  });
  try {
    await Promise.race([deadline, handshake(client, {
      sock,
      host: opts.address,
      port: opts.port,
      username: opts.user,
      authHandler,
      readyTimeout: Math.max(1, opts.connectTimeoutMs - (Date.now() - started)),
      keepaliveInterval: opts.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: opts.keepaliveCountMax ?? 3,
      hostVerifier: hostKey.verifier,
      algorithms: { serverHostKey: hostKey.algorithms },
    })]);
  } catch (e) {
    client.end();
    sock.destroy();
    const err = e as NodeJS.ErrnoException & { level?: string };
    const label = [...new Set(tried.length ? tried : auth.methods.map((m) => m.label))].join(', ') + (auth.skipped.length ? `; not usable: ${auth.skipped.join('; ')}` : '');
    throw unreachable(hostKey.refusal() ?? (err.message === 'deadline'
      ? `connection timed out after ${opts.connectTimeoutMs} ms`
      : describeConnectError(err, opts, label)));
  } finally {
    clearTimeout(timer);
  }
  return new SshTransport(opts.host, where, client);
}

const DEFAULT_IDENTITIES = () => DEFAULT_KEY_FILES.map((n) => ({ path: join(homedir(), '.ssh', n), explicit: false }));

// Resolves once the server accepted us; an error or a close before that rejects
// (a close as ETIMEDOUT "No response", which describeConnectError names).
function handshake(client: Ssh2Client, config: Record<string, unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    const onClose = () => reject(Object.assign(new Error('No response from server'), { code: 'ETIMEDOUT' }));
    client.on('error', reject);
    client.once('close', onClose);
    client.once('ready', () => {
      client.removeListener('error', reject);
      client.removeListener('close', onClose);
      resolve();
    });
    client.connect(config);
  });
}

// TCP first, on our own socket: errors get a clear name, and TCP_NODELAY halves the
// handshake time (Nagle + delayed ACK otherwise stall its small packets; 88 -> 40 ms on
// loopback) and keeps exec round trips at a few ms instead of ~45 ms every other call.
function openSocket(opts: SshOptions, unreachable: (why: string) => Error): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: opts.address, port: opts.port, noDelay: true });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(unreachable(`connection timed out after ${opts.connectTimeoutMs} ms`));
    }, opts.connectTimeoutMs);
    const onError = (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(unreachable(describeConnectError(e, opts, '')));
    };
    sock.once('error', onError);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.off('error', onError);
      resolve(sock);
    });
  });
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}
