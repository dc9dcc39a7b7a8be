// The Transport over one verified SSH connection (made by ssh-connect.ts):
// commands on pooled shells (shell-pool.ts), a command with stdin on an exec
// channel of its own (exec-channel.ts), files over SFTP (sftp-upload.ts), TCP
// as direct-tcpip channels. A lost connection fails everything pending as
// unreachable.
import { isAbsolute } from 'node:path';
import type { Duplex } from 'node:stream';
import { killRemote, onExecChannel } from './exec-channel.js';
import { timeoutError } from './local.js';
import { commandLine } from './quote.js';
import { SftpSession, statvfsFree, upload } from './sftp-upload.js';
import { ShellPool } from './shell-pool.js';
import type { ShellSession } from './shell-session.js';
import { channelFailure } from './ssh-errors.js';
import type { SshConnection } from './ssh-options.js';
import type { Ssh2Client } from './ssh2.js';
import { Slots } from './slots.js';
import {
  NotRunError, settledQuietly, UnreachableError, type Command, type ExecOptions, type ExecResult, type PutOptions,
} from './transport.js';

/** Channels other than the shells at once (exec with stdin, TCP); see shell-pool.ts for the sum. */
const MAX_CHANNELS = 4;

/** A command given: where one written behind it goes (its shell, or null for an exec channel), and its result. */
type Given = { shell: Promise<ShellSession> | null; result: Promise<ExecResult | null> };

export class SshTransport implements SshConnection {
  private lost: string | null = null;
  private readonly pending = new Set<(e: Error) => void>();
  private readonly slots = new Slots(MAX_CHANNELS);
  private readonly sftp: SftpSession;
  private readonly shells: ShellPool;

  constructor(readonly host: string, private readonly where: string, private readonly client: Ssh2Client) {
    const onLost = (why: string) => {
      this.lost ??= why;
      for (const fail of this.pending) fail(new UnreachableError(this.host, `${this.where}: ${this.lost}`));
      this.pending.clear();
    };
    this.client.on('error', (e: Error) => onLost(`connection lost (${e.message})`));
    this.client.on('close', () => onLost('connection closed'));
    this.sftp = new SftpSession(client);
    this.shells = new ShellPool({ client, host, where, lost: () => this.lost, tracked: (body) => this.tracked(body) });
  }

  lostReason(): string | null {
    return this.lost;
  }

  // Commands run in a long-lived shell (see shell-session.ts); only a command
  // that is given stdin gets an exec channel of its own.
  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.start(argv, opts, null).result;
  }

  // Written behind each other on one shell: one round trip for all of them.
  sequence(commands: readonly Command[]): Array<Promise<ExecResult>> {
    let before: Given | null = null;
    return commands.map((c) => {
      const given = this.start(c.argv, c, before);
      before = given.next;
      return settledQuietly(given.result);
    });
  }

  /** Runs argv; behind `behind` (only if that exits 0) when given. `next` is where a command behind this one goes. */
  private start(argv: readonly string[], opts: ExecOptions, behind: Given | null): { result: Promise<ExecResult>; next: Given } {
    try {
      commandLine(argv); // an empty argv is refused before anything is given
    } catch (e) {
      // not given: the ones behind it do not run
      return { result: Promise.reject(e as Error), next: { shell: null, result: Promise.resolve(null) } };
    }
    if (opts.stdin !== undefined) {
      const result = (async () => {
        if (behind && (await behind.result)?.code !== 0) throw new NotRunError();
        await this.slots.take();
        try {
          return await this.tracked<ExecResult>(onExecChannel(this.client, this.host, argv, opts));
        } finally {
          this.slots.give();
        }
      })();
      return { result, next: { shell: null, result: result.catch(() => null) } };
    }
    // Behind the previous command: on its shell, written at once; after an
    // exec channel, once its result says it exited 0.
    const shellP = behind?.shell ?? (behind
      ? behind.result.then((r) => { if (r?.code !== 0) throw new NotRunError(); return this.shells.take(); })
      : this.shells.take());
    const result = (async () => {
      const shell = await shellP;
      this.shells.hold(shell);
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
        this.shells.giveBack(shell);
      }
    })();
    return { result, next: { shell: shellP, result: result.catch(() => null) } };
  }

  async put(data: Buffer, remotePath: string, opts: PutOptions = {}): Promise<void> {
    if (!isAbsolute(remotePath)) throw new Error(`${this.host}: put needs an absolute path, got ${remotePath}`);
    if (this.lost) throw new UnreachableError(this.host, `${this.where}: ${this.lost}`);
    const sftp = await this.sftp.get();
    if (!sftp) return this.putByCat(data, remotePath);
    await this.tracked<void>((resolve, reject) => upload(sftp, data, remotePath, opts.signal, (err) =>
      err ? reject(new Error(`${this.host}: upload to ${remotePath} failed: ${err.message}`)) : resolve()));
  }

  // statvfs over SFTP: the sftp-server answers it, no process is started on the host.
  async freeBytes(dir: string): Promise<number | undefined> {
    const sftp = this.lost ? null : await this.sftp.get();
    if (!sftp) return undefined;
    return this.tracked<number | undefined>((resolve) => statvfsFree(sftp, dir, resolve)).catch(() => undefined);
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
    await this.slots.take();
    try {
      return await this.tracked<Duplex>((resolve, reject) =>
        this.client.forwardOut('127.0.0.1', 0, address, port, (err, ch) =>
          err ? reject(new Error(`${this.host}: cannot open ${address}:${port} from the host: ${channelFailure(err)}`)) : resolve(ch)),
      );
    } finally {
      this.slots.give();
    }
  }

  async close(): Promise<void> {
    if (this.lost) return;
    // a command still running was given up on (a wait after an interrupt): stop it on the host
    this.shells.abandonBusy();
    const closed = new Promise<void>((r) => this.client.once('close', () => r()));
    this.client.end();
    await Promise.race([closed, new Promise((r) => setTimeout(r, 2_000).unref())]);
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

}
