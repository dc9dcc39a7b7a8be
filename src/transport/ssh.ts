import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, stat } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { Duplex } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import {
  checkHostKey, fingerprint, formatEntry, hostKeyAlgorithms, hostToken, keyFromBlob,
  knownTypesFor, parseKnownHosts, type KnownHostEntry,
} from './known-hosts.js';
import { timeoutError } from './local.js';
import { commandLine } from './quote.js';
import { UnreachableError, type ExecOptions, type ExecResult, type Transport } from './transport.js';

export type SshOptions = {
  /** the host's name in the playbook */
  host: string;
  address: string;
  port: number;
  user: string;
  /** private key; without it: ssh-agent (SSH_AUTH_SOCK) and ~/.ssh/id_{ed25519,ecdsa,rsa} */
  identityFile?: string;
  connectTimeoutMs: number;
  keepaliveIntervalMs?: number;
  hostKeyChecking: 'strict' | 'accept-new' | 'off';
  knownHostsFile: string;
};

// The few ssh2 shapes used here (ssh2 ships no types in this repo).
type Channel = NodeJS.ReadWriteStream & {
  stderr: NodeJS.ReadableStream;
  signal(name: string): void;
  close(): void;
  on(ev: 'exit', cb: (code: number | null, signal?: string) => void): Channel;
  on(ev: string, cb: (...a: any[]) => void): Channel;
};
type Client = {
  exec(cmd: string, cb: (err: Error | undefined, ch: Channel) => void): void;
  forwardOut(srcIP: string, srcPort: number, dstIP: string, dstPort: number, cb: (err: Error | undefined, ch: Duplex) => void): void;
  on(ev: string, cb: (...a: any[]) => void): Client;
  once(ev: string, cb: (...a: any[]) => void): Client;
  end(): void;
};
type Sftp = {
  fastPut(local: string, remote: string, opts: { mode?: number }, cb: (err?: Error) => void): void;
  chmod(path: string, mode: number, cb: (err?: Error) => void): void;
  end(): void;
};

/** Channels in flight at once: below OpenSSH's default MaxSessions (10), one left for SFTP. */
const MAX_CHANNELS = 8;
let warnedOff = false;

// Why: every step on a host goes through one SSH connection; opening it checks the
// host key against known_hosts before any credential is offered.
export async function connectSsh(given: SshOptions): Promise<Transport> {
  const opts: SshOptions = {
    ...given,
    knownHostsFile: expandHome(given.knownHostsFile),
    ...(given.identityFile ? { identityFile: expandHome(given.identityFile) } : {}),
  };
  const where = `${opts.host} (${opts.address}:${opts.port})`;
  const unreachable = (why: string) => new UnreachableError(opts.host, `${where}: ${why}`);
  const token = hostToken(opts.address, opts.port);
  // Read even when checking is off: a @revoked key is refused in every mode.
  const known = await readKnownHosts(opts.knownHostsFile, unreachable)
    .catch((e: Error) => { if (opts.hostKeyChecking === 'off') return { text: '', entries: [] }; throw e; });
  const key = await identity(opts.identityFile, unreachable);

  let refusal: string | null = null;
  const hostVerifier = (blob: Buffer, verify: (ok: boolean) => void): void => {
    void decideHostKey(opts, where, token, known, blob).then(
      (why) => { refusal = why; verify(why === null); },
      (e: Error) => { refusal = `cannot check the host key: ${e.message}`; verify(false); },
    );
  };

  const started = Date.now();
  const sock = await openSocket(opts, unreachable);
  const ssh = new NodeSSH();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('deadline')), opts.connectTimeoutMs + 1_000 - (Date.now() - started));
  });
  try {
    await Promise.race([deadline, ssh.connect({
      sock,
      host: opts.address,
      port: opts.port,
      username: opts.user,
      ...(key.privateKey ? { privateKey: key.privateKey } : {}),
      ...(key.agent ? { agent: key.agent } : {}),
      readyTimeout: Math.max(1, opts.connectTimeoutMs - (Date.now() - started)),
      keepaliveInterval: opts.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: 3,
      hostVerifier,
      algorithms: { serverHostKey: hostKeyAlgorithms(knownTypesFor(known.entries, token)) },
    })]);
  } catch (e) {
    ssh.dispose();
    sock.destroy();
    const err = e as NodeJS.ErrnoException & { level?: string };
    throw unreachable(refusal ?? (err.message === 'deadline'
      ? `connection timed out after ${opts.connectTimeoutMs} ms`
      : describeConnectError(err, opts, key.label)));
  } finally {
    clearTimeout(timer);
  }
  return new SshTransport(opts.host, where, ssh);
}

class SshTransport implements Transport {
  private readonly client: Client;
  private lost: string | null = null;
  private readonly pending = new Set<(e: Error) => void>();
  private active = 0;
  private readonly queue: Array<() => void> = [];
  /** resolves to null when the server offers no SFTP subsystem */
  private sftp: Promise<Sftp | null> | null = null;

  constructor(readonly host: string, private readonly where: string, private readonly ssh: NodeSSH) {
    this.client = ssh.connection as unknown as Client;
    const onLost = (why: string) => {
      this.lost ??= why;
      for (const fail of this.pending) fail(new UnreachableError(this.host, `${this.where}: ${this.lost}`));
      this.pending.clear();
    };
    this.client.on('error', (e: Error) => onLost(`connection lost (${e.message})`));
    this.client.on('close', () => onLost('connection closed'));
  }

  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const cmd = commandLine(argv);
    await this.slot();
    try {
      return await this.run(cmd, argv, opts);
    } finally {
      this.release();
    }
  }

  async put(localPath: string, remotePath: string): Promise<void> {
    if (!isAbsolute(remotePath)) throw new Error(`${this.host}: put needs an absolute path, got ${remotePath}`);
    if (this.lost) throw new UnreachableError(this.host, `${this.where}: ${this.lost}`);
    this.sftp ??= (this.ssh.requestSFTP() as unknown as Promise<Sftp>).catch(() => null);
    const sftp = await this.sftp;
    if (!sftp) return this.putByCat(localPath, remotePath);
    await this.tracked<void>((resolve, reject) => sftp.fastPut(localPath, remotePath, { mode: 0o600 }, (err) => {
      if (err) return reject(new Error(`${this.host}: upload to ${remotePath} failed: ${err.message}`));
      // fastPut's mode only applies to a new file; an existing one keeps its own.
      sftp.chmod(remotePath, 0o600, (e) => (e ? reject(new Error(`${this.host}: chmod ${remotePath}: ${e.message}`)) : resolve()));
    }));
  }

  // Without SFTP on the server: stream the file into `cat` (same result, mode 0600).
  private async putByCat(localPath: string, remotePath: string): Promise<void> {
    const script = 'umask 077 && cat > "$1" && chmod 600 "$1"';
    const r = await this.exec(['sh', '-c', script, 'sh', remotePath], { stdin: await readFile(localPath) });
    if (r.code !== 0) throw new Error(`${this.host}: upload to ${remotePath} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  // A direct-tcpip channel: the host's sshd opens the connection, so an
  // address means what it means on the host.
  async openTcp(address: string, port: number): Promise<Duplex> {
    await this.slot();
    try {
      return await this.tracked<Duplex>((resolve, reject) =>
        this.client.forwardOut('127.0.0.1', 0, address, port, (err, ch) =>
          err ? reject(new Error(`${this.host}: cannot open ${address}:${port} from the host: ${err.message}`)) : resolve(ch)),
      );
    } finally {
      this.release();
    }
  }

  async close(): Promise<void> {
    if (this.lost) return;
    const closed = new Promise<void>((r) => this.client.once('close', () => r()));
    this.ssh.dispose();
    await Promise.race([closed, new Promise((r) => setTimeout(r, 2_000).unref())]);
  }

  private run(cmd: string, argv: readonly string[], opts: ExecOptions): Promise<ExecResult> {
    return this.tracked((resolve, reject) => {
      this.client.exec(cmd, (err, ch) => {
        if (err) return reject(new Error(`${this.host}: cannot open a channel: ${err.message}`));
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let code: number | null = null;
        let timer: NodeJS.Timeout | undefined;
        if (opts.timeoutMs !== undefined) {
          timer = setTimeout(() => {
            killRemote(ch);
            ch.close();
            reject(timeoutError(this.host, argv, opts.timeoutMs!));
          }, opts.timeoutMs);
        }
        ch.on('data', (d: Buffer) => out.push(d));
        ch.stderr.on('data', (d: Buffer) => errOut.push(d));
        ch.on('exit', (c: number | null) => { code = typeof c === 'number' ? c : null; });
        ch.on('close', () => {
          clearTimeout(timer);
          resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8'), code });
        });
        ch.end(opts.stdin ?? '');
      });
    });
  }

  /** A promise that also rejects, as unreachable, when the connection drops. */
  private tracked<T>(body: (resolve: (v: T) => void, reject: (e: Error) => void) => void): Promise<T> {
    if (this.lost) return Promise.reject(new UnreachableError(this.host, `${this.where}: ${this.lost}`));
    return new Promise<T>((resolve, reject) => {
      const fail = (e: Error) => reject(e);
      this.pending.add(fail);
      body((v) => { this.pending.delete(fail); resolve(v); }, (e) => { this.pending.delete(fail); reject(e); });
    });
  }

  private slot(): Promise<void> {
    if (this.active < MAX_CHANNELS) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((r) => this.queue.push(() => { this.active++; r(); }));
  }

  private release(): void {
    this.active--;
    this.queue.shift()?.();
  }
}

// ssh2's Channel.signal() is a silent no-op once stdin was ended (it checks `writable`),
// and stdin is always ended here; send the request through its protocol object instead.
// OpenSSH (7.9+) then kills the session's process group; older servers ignore it.
function killRemote(ch: Channel): void {
  const c = ch as unknown as { type?: string; outgoing?: { id: number; state: string }; _client?: { _protocol?: { signal(id: number, sig: string): void } } };
  try {
    if (c.type === 'session' && (c.outgoing?.state === 'open' || c.outgoing?.state === 'eof') && c._client?._protocol) c._client._protocol.signal(c.outgoing.id, 'KILL');
    else ch.signal('KILL');
  } catch {
    /* the connection is going away anyway */
  }
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

type KnownHosts = { text: string; entries: KnownHostEntry[] };

async function readKnownHosts(file: string, unreachable: (why: string) => Error): Promise<KnownHosts> {
  try {
    const text = await readFile(file, 'utf8');
    return { text, entries: parseKnownHosts(text, file) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { text: '', entries: [] };
    throw unreachable(`cannot read known_hosts ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** null = accept; otherwise the one-line reason for refusing. */
async function decideHostKey(opts: SshOptions, where: string, token: string, known: KnownHosts, blob: Buffer): Promise<string | null> {
  const key = keyFromBlob(blob);
  const fp = `${key.type} ${fingerprint(key)}`;
  const verdict = checkHostKey(known.entries, token, key);
  if (verdict.status === 'revoked') {
    return `host key ${fp} is marked @revoked in ${verdict.entry.file}:${verdict.entry.line}; refusing`;
  }
  if (opts.hostKeyChecking === 'off') {
    if (!warnedOff) {
      warnedOff = true;
      process.stderr.write(
        `WARNING: host key checking is OFF (host_key_checking: off). Host keys are not verified, so anyone on the ` +
        `network path can impersonate a host and receive your commands and binaries. First seen: ${where} ${fp}\n`,
      );
    }
    return null;
  }
  if (verdict.status === 'known') return null;
  if (verdict.status === 'changed') {
    const old = { type: verdict.entry.keyType, base64: verdict.entry.keyBase64 };
    return `HOST KEY CHANGED: server offers ${fp}, but ${verdict.entry.file}:${verdict.entry.line} has ${old.type} ` +
      `${fingerprint(old)}; refusing (someone may be intercepting the connection, or the host was reinstalled: ` +
      `check, then remove that line)`;
  }
  if (opts.hostKeyChecking === 'strict') {
    const others = verdict.otherTypes.length ? ` (only ${verdict.otherTypes.join(', ')} keys are known for it)` : '';
    return `unknown host key ${fp}: not in ${opts.knownHostsFile}${others}; refusing (host_key_checking: strict). ` +
      `Verify the fingerprint, then add the key or use host_key_checking: accept-new`;
  }
  const sep = known.text === '' || known.text.endsWith('\n') ? '' : '\n';
  try {
    await mkdir(dirname(opts.knownHostsFile), { recursive: true });
    await appendFile(opts.knownHostsFile, `${sep}${formatEntry(token, key)}\n`);
  } catch (e) {
    return `cannot record host key ${fp} in ${opts.knownHostsFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  known.text += `${sep}${formatEntry(token, key)}\n`;
  return null;
}

type Identity = { privateKey?: string; agent?: string; label: string };

async function identity(file: string | undefined, unreachable: (why: string) => Error): Promise<Identity> {
  const agent = process.env.SSH_AUTH_SOCK || undefined;
  const candidates = file ? [file] : ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((n) => join(homedir(), '.ssh', n)).filter((f) => existsSync(f));
  const path = candidates[0];
  if (!path) {
    if (agent) return { agent, label: 'ssh-agent' };
    throw unreachable('no identity file given, no ~/.ssh/id_ed25519|id_ecdsa|id_rsa and no ssh-agent (SSH_AUTH_SOCK)');
  }
  try {
    if (!(await stat(path)).isFile()) throw unreachable(`identity file ${path} is not a file`);
    const privateKey = await readFile(path, 'utf8');
    if (/ENCRYPTED/.test(privateKey.slice(0, 200)) || isEncryptedOpenSshKey(privateKey)) {
      if (agent) return { agent, label: `ssh-agent (identity file ${path} is passphrase-protected)` };
      throw unreachable(`identity file ${path} is passphrase-protected: load it into ssh-agent (ssh-add) first`);
    }
    return { privateKey, ...(agent ? { agent } : {}), label: path };
  } catch (e) {
    if (e instanceof UnreachableError) throw e;
    throw unreachable(`cannot read identity file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function isEncryptedOpenSshKey(pem: string): boolean {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END/.exec(pem);
  if (!m) return false;
  const raw = Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  // "openssh-key-v1\0" then the cipher name as an SSH string; "none" means unencrypted.
  const off = 15;
  if (raw.length < off + 4) return false;
  const len = raw.readUInt32BE(off);
  return raw.toString('latin1', off + 4, off + 4 + len) !== 'none';
}

function describeConnectError(e: NodeJS.ErrnoException & { level?: string }, opts: SshOptions, keyLabel: string): string {
  switch (e.code) {
    case 'ECONNREFUSED': return 'connection refused';
    case 'ETIMEDOUT': return e.message.startsWith('No response')
      ? 'connection closed by the server before the handshake finished'
      : `connection timed out after ${opts.connectTimeoutMs} ms`;
    case 'ENOTFOUND': case 'EAI_AGAIN': return `cannot resolve ${opts.address}`;
    case 'EHOSTUNREACH': return 'no route to host';
    case 'ENETUNREACH': return 'network unreachable';
    case 'ECONNRESET': return 'connection reset by the server';
  }
  if (e.level === 'client-timeout') return `connection timed out after ${opts.connectTimeoutMs} ms (no SSH handshake)`;
  if (e.level === 'client-authentication') return `authentication failed as ${opts.user} (tried ${keyLabel})`;
  if (/privateKey|Cannot parse privateKey/i.test(e.message)) return `cannot use identity file ${keyLabel}: ${e.message.split('\n')[0]}`;
  return (e.message || String(e)).split('\n')[0]!;
}
