import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { Duplex } from 'node:stream';
import {
  fingerprint, formatEntry, hostKeyAlgorithms, hostToken, verifyHostKey,
  formatHashedEntry, knownTypesFor, parseKnownHosts, type HostLookup, type KnownHostEntry,
} from './known-hosts.js';
import { IdentityError, prepareAuth, type Auth, type IdentitySpec } from './identity.js';
import { timeoutError } from './local.js';
import { commandLine } from './quote.js';
import { ssh2, type Ssh2Client } from './ssh2.js';
import { SHELL_COMMAND, ShellSession, type ShellChannel } from './shell-session.js';
import { NotRunError, UnreachableError, type ExecOptions, type ExecResult, type PutOptions, type Transport } from './transport.js';

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
  hostKeyChecking: 'strict' | 'accept-new' | 'off';
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

// The few ssh2 shapes used here (ssh2 ships no types in this repo).
type Channel = NodeJS.ReadWriteStream & {
  stderr: NodeJS.ReadableStream;
  signal(name: string): void;
  close(): void;
  on(ev: 'exit', cb: (code: number | null, signal?: string) => void): Channel;
  on(ev: string, cb: (...a: any[]) => void): Channel;
};
type Sftp = {
  once(ev: 'close', cb: () => void): void;
  removeListener(ev: 'close', cb: () => void): void;
  open(path: string, flags: string, attrs: { mode: number }, cb: (err: Error | undefined, handle: Buffer) => void): void;
  fchmod(handle: Buffer, mode: number, cb: (err?: Error) => void): void;
  write(handle: Buffer, data: Buffer, offset: number, length: number, position: number, cb: (err?: Error) => void): void;
  close(handle: Buffer, cb: (err?: Error) => void): void;
  /** OpenSSH's statvfs@openssh.com; throws at once when the server does not offer it */
  ext_openssh_statvfs(path: string, cb: (err: Error | undefined, st: { f_frsize: number | bigint; f_bavail: number | bigint }) => void): void;
  /** the largest WRITE the server takes (OpenSSH's limits@openssh.com), as ssh2 learnt it */
  _maxWriteLen?: number;
};

/**
 * Session channels at once stay below OpenSSH's default MaxSessions (10):
 * up to 4 shells, 4 other channels (exec with stdin, TCP), and SFTP.
 */
const MAX_SHELLS = 4;
const MAX_CHANNELS = 4;
let warnedOff = false;

// Why: every step on a host goes through one SSH connection; opening it checks the
// host key against known_hosts before any credential is offered.
export async function connectSsh(given: SshOptions): Promise<SshConnection> {
  const knownFiles = (Array.isArray(given.knownHostsFile) ? given.knownHostsFile : [given.knownHostsFile]).map(expandHome);
  const opts: SshOptions = { ...given, knownHostsFile: knownFiles };
  const where = `${opts.host} (${opts.address}:${opts.port}${opts.via ? ` via ${opts.via}` : ''})`;
  const unreachable = (why: string) => new UnreachableError(opts.host, `${where}: ${why}`);
  const token = hostToken(opts.hostKeyAlias ?? opts.address, opts.hostKeyAlias ? 22 : opts.port);
  const lookup: HostLookup = { name: opts.hostKeyAlias ?? opts.address, port: opts.hostKeyAlias ? 22 : opts.port, alias: !!opts.hostKeyAlias };
  // Read even when checking is off: a @revoked key is refused in every mode.
  const known = await readAllKnownHosts(knownFiles, opts.globalKnownHostsFiles ?? [], unreachable)
    .catch((e: Error) => { if (opts.hostKeyChecking === 'off') return { text: '', entries: [] }; throw e; });
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

  let refusal: string | null = null;
  const hostVerifier = (blob: Buffer, verify: (ok: boolean) => void): void => {
    void decideHostKey(opts, knownFiles, where, lookup, known, blob).then(
      (why) => { refusal = why; verify(why === null); },
      (e: Error) => { refusal = `cannot check the host key: ${e.message}`; verify(false); },
    );
  };

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
      hostVerifier,
      algorithms: { serverHostKey: hostKeyAlgorithms(knownTypesFor(known.entries, token)) },
    })]);
  } catch (e) {
    client.end();
    sock.destroy();
    const err = e as NodeJS.ErrnoException & { level?: string };
    const label = [...new Set(tried.length ? tried : auth.methods.map((m) => m.label))].join(', ') + (auth.skipped.length ? `; not usable: ${auth.skipped.join('; ')}` : '');
    throw unreachable(refusal ?? (err.message === 'deadline'
      ? `connection timed out after ${opts.connectTimeoutMs} ms`
      : describeConnectError(err, opts, label)));
  } finally {
    clearTimeout(timer);
  }
  return new SshTransport(opts.host, where, client);
}

const DEFAULT_IDENTITIES = () => ['id_rsa', 'id_ecdsa', 'id_ed25519'].map((n) => ({ path: join(homedir(), '.ssh', n), explicit: false }));

class SshTransport implements SshConnection {
  private lost: string | null = null;
  private readonly pending = new Set<(e: Error) => void>();
  private active = 0;
  private readonly queue: Array<() => void> = [];
  /** resolves to null when the server offers no SFTP subsystem */
  private sftp: Promise<Sftp | null> | null = null;
  /** long-lived shells that run commands without a session each (see takeShell) */
  private readonly idleShells: ShellSession[] = [];
  private readonly shells = new Set<ShellSession>();
  /** shells being opened, counted against MAX_SHELLS */
  private opening = 0;
  private readonly shellWaiters: Array<{ resolve: (s: ShellSession) => void; reject: (e: Error) => void }> = [];
  /** commands running on a shell (one taken from the pool, plus those written behind it) */
  private readonly held = new Map<ShellSession, number>();
  /** the last command given: where a command `afterPrevious` goes (its shell, or null for an exec channel) */
  private previous: { shell: Promise<ShellSession> | null; result: Promise<ExecResult | null> } | null = null;

  lostReason(): string | null {
    return this.lost;
  }

  constructor(readonly host: string, private readonly where: string, private readonly client: Ssh2Client) {
    const onLost = (why: string) => {
      this.lost ??= why;
      for (const fail of this.pending) fail(new UnreachableError(this.host, `${this.where}: ${this.lost}`));
      this.pending.clear();
    };
    this.client.on('error', (e: Error) => onLost(`connection lost (${e.message})`));
    this.client.on('close', () => onLost('connection closed'));
  }

  // Commands run in a long-lived shell (see shell-session.ts); only a command
  // that is given stdin gets an exec channel of its own.
  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const cmd = commandLine(argv);
    const previous = this.previous;
    if (opts.stdin !== undefined) {
      const result = (async () => {
        if (opts.afterPrevious && previous && (await previous.result)?.code !== 0) throw new NotRunError();
        await this.slot();
        try {
          return await this.run(cmd, argv, opts);
        } finally {
          this.release();
        }
      })();
      this.previous = { shell: null, result: result.catch(() => null) };
      return result;
    }
    // Behind the previous command: on its shell, written at once; after an
    // exec channel, once its result says it exited 0.
    const behind = opts.afterPrevious && previous ? previous : null;
    const shellP = behind?.shell ?? (behind
      ? behind.result.then((r) => { if (r?.code !== 0) throw new NotRunError(); return this.takeShell(); })
      : this.takeShell());
    const result = (async () => {
      const shell = await shellP;
      this.held.set(shell, (this.held.get(shell) ?? 0) + 1);
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      try {
        return await this.tracked<ExecResult>((resolve, reject) => {
          // a command written behind another is timed from when that one is done
          const arm = () => {
            if (settled || opts.timeoutMs === undefined) return;
            timer = setTimeout(() => {
              shell.abandon(killRemote);
              reject(timeoutError(this.host, argv, opts.timeoutMs!));
            }, opts.timeoutMs);
          };
          if (behind?.shell) void behind.result.then(arm);
          else arm();
          shell.run(argv, { ifLastOk: !!behind?.shell }).then(resolve, reject);
        });
      } finally {
        settled = true;
        clearTimeout(timer);
        this.giveBack(shell);
      }
    })();
    this.previous = { shell: shellP, result: result.catch(() => null) };
    return result;
  }

  // Shells are a pool of their own, beside the channel slots: an idle one is
  // reused, a new one is opened while fewer than MAX_SHELLS exist, else the
  // command waits for one to come back.
  private takeShell(): Promise<ShellSession> {
    const idle = this.idleShells.pop();
    if (idle) return Promise.resolve(idle);
    if (this.shells.size + this.opening < MAX_SHELLS) return this.openShell();
    return new Promise((resolve, reject) => this.shellWaiters.push({ resolve, reject }));
  }

  private giveBack(shell: ShellSession): void {
    const held = (this.held.get(shell) ?? 1) - 1;
    if (held > 0) return void this.held.set(shell, held); // a command written behind still runs
    this.held.delete(shell);
    if (!shell.alive || this.lost) return;
    const next = this.shellWaiters.shift();
    if (next) next.resolve(shell);
    else this.idleShells.push(shell);
  }

  private async openShell(): Promise<ShellSession> {
    let shell: ShellSession | undefined;
    const ended = (failPending: ((e: Error) => void) | null) => {
      if (shell) this.shells.delete(shell);
      const i = shell ? this.idleShells.indexOf(shell) : -1;
      if (i >= 0) this.idleShells.splice(i, 1);
      // A dropped connection closes every channel: let the transport say
      // "unreachable" (its close event may come after the channel's).
      setImmediate(() => {
        const why = () => (this.lost ? new UnreachableError(this.host, `${this.where}: ${this.lost}`) : new Error(`${this.host}: the remote shell ended unexpectedly`));
        failPending?.(why());
        const next = this.shellWaiters.shift();
        if (next) this.openShell().then(next.resolve, next.reject);
      });
    };
    this.opening++;
    try {
      const ch = await this.tracked<ShellChannel>((resolve, reject) =>
        this.client.exec(SHELL_COMMAND, (err, c) => (err ? reject(new Error(`${this.host}: cannot open a channel: ${err.message}`)) : resolve(c as unknown as ShellChannel))));
      shell = new ShellSession(ch, ended);
      this.shells.add(shell);
      return shell;
    } catch (e) {
      ended(null);
      throw e;
    } finally {
      this.opening--;
    }
  }

  async put(data: Buffer, remotePath: string, opts: PutOptions = {}): Promise<void> {
    if (!isAbsolute(remotePath)) throw new Error(`${this.host}: put needs an absolute path, got ${remotePath}`);
    if (this.lost) throw new UnreachableError(this.host, `${this.where}: ${this.lost}`);
    const sftp = await this.sftpSession();
    if (!sftp) return this.putByCat(data, remotePath);
    await this.tracked<void>((resolve, reject) => upload(sftp, data, remotePath, opts.signal, (err) =>
      err ? reject(new Error(`${this.host}: upload to ${remotePath} failed: ${err.message}`)) : resolve()));
  }

  // statvfs over SFTP: the sftp-server answers it, no process is started on the host.
  async freeBytes(dir: string): Promise<number | undefined> {
    const sftp = this.lost ? null : await this.sftpSession();
    if (!sftp) return undefined;
    return this.tracked<number | undefined>((resolve) => {
      try {
        sftp.ext_openssh_statvfs(dir, (err, st) => resolve(err ? undefined : Number(st.f_bavail) * Number(st.f_frsize)));
      } catch {
        resolve(undefined); // a server without the extension
      }
    }).catch(() => undefined);
  }

  // One SFTP session per connection, opened on first use; null when the server has no SFTP.
  private sftpSession(): Promise<Sftp | null> {
    const opening = (this.sftp ??= new Promise<Sftp | null>((resolve) => this.client.sftp((err, s) => {
      if (err) return resolve(null);
      const sftp = s as Sftp;
      // a session that ended (its sftp-server died) is not reused: the next upload opens another
      sftp.once('close', () => { if (this.sftp === opening) this.sftp = null; });
      resolve(sftp);
    })));
    return opening;
  }

  // Without SFTP on the server: stream the bytes into `cat` (same result, mode 0600).
  private async putByCat(data: Buffer, remotePath: string): Promise<void> {
    const script = 'umask 077 && cat > "$1" && chmod 600 "$1"';
    const r = await this.exec(['sh', '-c', script, 'sh', remotePath], { stdin: data });
    if (r.code !== 0) throw new Error(`${this.host}: upload to ${remotePath} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  // A direct-tcpip channel: the host's sshd opens the connection, so an
  // address means what it means on the host.
  async openTcp(address: string, port: number): Promise<Duplex> {
    await this.slot();
    try {
      return await this.tracked<Duplex>((resolve, reject) =>
        this.client.forwardOut('127.0.0.1', 0, address, port, (err, ch) =>
          err ? reject(new Error(`${this.host}: cannot open ${address}:${port} from the host: ${channelFailure(err)}`)) : resolve(ch)),
      );
    } finally {
      this.release();
    }
  }

  async close(): Promise<void> {
    if (this.lost) return;
    // a command still running was given up on (a wait after an interrupt): stop it on the host
    for (const shell of this.shells) if (!this.idleShells.includes(shell)) shell.abandon(killRemote);
    const closed = new Promise<void>((r) => this.client.once('close', () => r()));
    this.client.end();
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

/**
 * WRITEs in flight at once, of up to WRITE_BYTES each: 512 KiB unanswered at
 * most. That is about what a new TCP connection's slow start lets through in
 * its sixth round trip anyway, so a bigger window saves little on a real
 * network; and on a fresh connection, 1 MiB or more in flight made OpenSSH's
 * side stall for some 60 ms (measured on loopback: a 1.2 MB first upload took
 * 80 ms with 8 x 256 KiB in flight, 20 ms with 4 x 128 KiB).
 */
const WRITES_IN_FLIGHT = 4;
const WRITE_BYTES = 128 * 1024;

// One SFTP open, then the mode and the WRITEs sent without waiting for each
// other's answers (the server handles them in order), a few in flight at a
// time, then the close: about one round trip plus the transfer, not one per
// 32 KiB. The mode is set before any byte lands, also on a file that already
// existed. An abort stops issuing writes and closes the file once those in
// flight are answered; a session that closes fails the upload at once.
function upload(sftp: Sftp, data: Buffer, path: string, signal: AbortSignal | undefined, done: (err?: Error) => void): void {
  let finished = false;
  const finish = (err?: Error) => {
    if (finished) return;
    finished = true;
    sftp.removeListener('close', onClose);
    done(err);
  };
  const onClose = () => finish(new Error('the SFTP session closed'));
  sftp.once('close', onClose);
  sftp.open(path, 'w', { mode: 0o600 }, (err, handle) => {
    if (err) return finish(err);
    const chunk = Math.max(4096, Math.min(sftp._maxWriteLen ?? 32_768, WRITE_BYTES));
    let next = 0;
    let inFlight = 1; // the fchmod
    let first: Error | undefined;
    let closing = false;
    const pump = () => {
      while (!first && !signal?.aborted && next < data.length && inFlight < WRITES_IN_FLIGHT) {
        const off = next;
        next += chunk;
        inFlight++;
        sftp.write(handle, data, off, Math.min(chunk, data.length - off), off, answered);
      }
      if (inFlight > 0 || closing) return;
      closing = true;
      if (!first && next < data.length) first = new Error('interrupted');
      sftp.close(handle, (e) => finish(first ?? e));
    };
    const answered = (e?: Error) => {
      inFlight--;
      first ??= e;
      pump();
    };
    sftp.fchmod(handle, 0o600, answered);
    pump();
  });
}

// RFC 4254 reason codes: say why sshd refused to open the connection.
const OPEN_FAILURES: Record<number, string> = {
  1: 'administratively prohibited (sshd AllowTcpForwarding/PermitOpen)',
  2: 'connect failed',
  3: 'unknown channel type',
  4: 'resource shortage',
};
function channelFailure(err: Error & { reason?: number }): string {
  const why = err.reason !== undefined ? OPEN_FAILURES[err.reason] : undefined;
  return why ? `${why}: ${err.message.replace(/^\(SSH\) Channel open failure: /, '')}` : err.message;
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

/** Every entry of every file; `text` is the first (written) file as read. */
type KnownHosts = { text: string; entries: KnownHostEntry[] };

async function readAllKnownHosts(files: string[], global: string[], unreachable: (why: string) => Error): Promise<KnownHosts> {
  const read = async (file: string) => {
    try {
      return await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw unreachable(`cannot read known_hosts ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const all = [...files, ...global];
  const texts = await Promise.all(all.map(read));
  return { text: texts[0] ?? '', entries: all.flatMap((f, i) => parseKnownHosts(texts[i]!, f)) };
}

/** null = accept; otherwise the one-line reason for refusing. */
async function decideHostKey(opts: SshOptions, files: string[], where: string, lookup: HostLookup, known: KnownHosts, blob: Buffer): Promise<string | null> {
  const { key, verdict, certProblem } = verifyHostKey(known.entries, lookup, blob);
  const token = hostToken(lookup.name, lookup.port);
  const fp = `${key.type} ${fingerprint(key)}`;
  const cert = certProblem ? ` (its certificate was not accepted: ${certProblem})` : '';
  if (verdict.status === 'revoked') {
    return `host key ${fp} is marked @revoked in ${verdict.entry.file}:${verdict.entry.line}; refusing`;
  }
  if (opts.hostKeyChecking === 'off') {
    if (!warnedOff) {
      warnedOff = true;
      process.stderr.write(
        `WARNING: host key checking is OFF (${opts.hostKeyCheckingFrom ?? 'host_key_checking: off'}). Host keys are not verified, so anyone on the ` +
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
  const first = files[0];
  if (opts.hostKeyChecking === 'strict' || !first) {
    const others = verdict.otherTypes.length ? ` (only ${verdict.otherTypes.join(', ')} keys are known for it)` : '';
    const checked = [...files, ...(opts.globalKnownHostsFiles ?? [])].join(', ') || 'any known_hosts file';
    if (opts.hostKeyChecking !== 'strict') return `unknown host key ${fp}: not in ${checked}; refusing: accept-new has no known_hosts file to record it in`;
    const setting = opts.hostKeyCheckingFrom && opts.hostKeyCheckingFrom !== 'the default' ? opts.hostKeyCheckingFrom : 'host_key_checking: strict';
    return `unknown host key ${fp}${cert}: not in ${checked}${others}; refusing (${setting}). ` +
      'Verify the fingerprint, then add the key or use host_key_checking: accept-new';
  }
  const line = opts.hashKnownHosts ? formatHashedEntry(token, key) : formatEntry(token, key);
  const sep = known.text === '' || known.text.endsWith('\n') ? '' : '\n';
  try {
    await mkdir(dirname(first), { recursive: true });
    await appendFile(first, `${sep}${line}\n`);
  } catch (e) {
    return `cannot record host key ${fp} in ${first}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  known.text += `${sep}${line}\n`;
  return null;
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
