// The long-lived shells of one SSH connection (see shell-session.ts): an idle
// one is reused, a new one is opened while fewer than MAX_SHELLS exist, else a
// command waits for one to come back. A shell stays taken while a command
// written behind another on it still runs.
import { killRemote } from './exec-channel.js';
import { SHELL_COMMAND, ShellSession, type ShellChannel } from './shell-session.js';
import type { Ssh2Client } from './ssh2.js';
import { UnreachableError } from './transport.js';

/**
 * Session channels at once stay below OpenSSH's default MaxSessions (10):
 * up to 4 shells, 4 other channels (exec with stdin, TCP; see ssh-transport),
 * and SFTP.
 */
const MAX_SHELLS = 4;

/** What the pool needs of its connection. */
export interface PoolConnection {
  client: Ssh2Client;
  host: string;
  where: string;
  /** why the connection is gone, or null */
  lost(): string | null;
  /** a promise that also rejects, as unreachable, when the connection drops */
  tracked<T>(body: (resolve: (v: T) => void, reject: (e: Error) => void) => void): Promise<T>;
}

export class ShellPool {
  private readonly idle: ShellSession[] = [];
  private readonly shells = new Set<ShellSession>();
  /** shells being opened, counted against MAX_SHELLS */
  private opening = 0;
  private readonly waiters: Array<{ resolve: (s: ShellSession) => void; reject: (e: Error) => void }> = [];
  /** commands running on a shell (one taken from the pool, plus those written behind it) */
  private readonly held = new Map<ShellSession, number>();

  constructor(private readonly conn: PoolConnection) {}

  take(): Promise<ShellSession> {
    const idle = this.idle.pop();
    if (idle) return Promise.resolve(idle);
    if (this.shells.size + this.opening < MAX_SHELLS) return this.open();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** One more command runs on `shell` (taken, or written behind one that runs). */
  hold(shell: ShellSession): void {
    this.held.set(shell, (this.held.get(shell) ?? 0) + 1);
  }

  /** A command on `shell` is done: once none is left, it goes back to the pool. */
  giveBack(shell: ShellSession): void {
    const held = (this.held.get(shell) ?? 1) - 1;
    if (held > 0) return void this.held.set(shell, held); // a command written behind still runs
    this.held.delete(shell);
    if (!shell.alive || this.conn.lost()) return;
    const next = this.waiters.shift();
    if (next) next.resolve(shell);
    else this.idle.push(shell);
  }

  /** Kills what the busy shells still run (a wait given up on, at close). */
  abandonBusy(): void {
    for (const shell of this.shells) if (!this.idle.includes(shell)) shell.abandon(killRemote);
  }

  private async open(): Promise<ShellSession> {
    const { conn } = this;
    let shell: ShellSession | undefined;
    const ended = (failPending: ((e: Error) => void) | null) => {
      if (shell) this.shells.delete(shell);
      const i = shell ? this.idle.indexOf(shell) : -1;
      if (i >= 0) this.idle.splice(i, 1);
      // A dropped connection closes every channel: let the transport say
      // "unreachable" (its close event may come after the channel's).
      setImmediate(() => {
        const lost = conn.lost();
        failPending?.(lost ? new UnreachableError(conn.host, `${conn.where}: ${lost}`) : new Error(`${conn.host}: the remote shell ended unexpectedly`));
        const next = this.waiters.shift();
        if (next) this.open().then(next.resolve, next.reject);
      });
    };
    this.opening++;
    try {
      const ch = await conn.tracked<ShellChannel>((resolve, reject) =>
        conn.client.exec(SHELL_COMMAND, (err, c) => (err ? reject(new Error(`${conn.host}: cannot open a channel: ${err.message}`)) : resolve(c as unknown as ShellChannel))));
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
}
