// One long-lived `sh` on an SSH session channel, running hotswap's commands one
// after another. An exec channel per command costs a round trip to open it and
// an sshd session on the host (a fork, the login shell, its rc files): about
// 3 ms of host CPU each. Here each command is one line written to the shell's
// stdin, and its end is a line carrying a random marker and the exit status.
//
// - The command line is built by commandLine() as everywhere: every argument
//   a quoted word, so nothing the user wrote can end the line or the marker.
// - It runs in a subshell with stdin from /dev/null: it can neither change the
//   shell's state nor read the commands that follow. (A script is still run
//   by its own `sh -c`, so `$$` stays its own pid.)
// - stdout and stderr arrive on separate streams, so each gets its own marker.
// - On a timeout the session's processes are killed (as with an exec channel)
//   and the session is dropped; the next command starts a new one.
// - A command may be written while the one before it still runs (`ifLastOk`):
//   the shell runs it right after, only if that one exited 0, and the round
//   trip between them is saved. Results come back in the order written.
import { randomBytes } from 'node:crypto';
import { commandLine } from './quote.js';
import { NotRunError, type ExecResult } from './transport.js';

export type ShellChannel = NodeJS.ReadWriteStream & {
  stderr: NodeJS.ReadableStream;
  signal(name: string): void;
  close(): void;
  on(ev: string, cb: (...a: any[]) => void): ShellChannel;
};

type Pending = {
  resolve: (r: ExecResult) => void;
  reject: (e: Error) => void;
};

/** The program the session channel runs: a plain POSIX sh reading commands from stdin. */
export const SHELL_COMMAND = 'exec sh';

const newMarker = () => `__hotswap_${randomBytes(12).toString('hex')}__`;
/** The end of a command's stdout: a session's marker and the exit status, "-" when not run (for the benchmark's census). */
export const STDOUT_END = /__hotswap_[0-9a-f]{24}__(?:[0-9]+|-)\n/g;

export class ShellSession {
  private readonly marker = newMarker();
  private readonly markerBytes = Buffer.from(this.marker);
  private out = Buffer.alloc(0);
  private err = Buffer.alloc(0);
  /** written and not yet answered, oldest first */
  private readonly pending: Pending[] = [];
  private ended: string | null = null;

  constructor(private readonly ch: ShellChannel, private readonly onEnd: (pending: ((e: Error) => void) | null) => void) {
    ch.on('data', (d: Buffer) => { this.out = Buffer.concat([this.out, d]); this.settle(); });
    ch.stderr.on('data', (d: Buffer) => { this.err = Buffer.concat([this.err, d]); this.settle(); });
    ch.on('close', () => this.end('the remote shell ended'));
    ch.on('error', () => this.end('the remote shell failed'));
  }

  /** false once the shell is gone or was given up on: never reused then */
  get alive(): boolean {
    return this.ended === null;
  }

  /** Runs argv; with `ifLastOk`, only if the command written before it exits 0 (else rejects with NotRunError). */
  run(argv: readonly string[], opts: { ifLastOk?: boolean } = {}): Promise<ExecResult> {
    if (this.ended) return Promise.reject(new Error(this.ended));
    return new Promise<ExecResult>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      const m = this.marker;
      const cmd = `(${commandLine(argv)}) </dev/null; hs=$?`;
      const line = opts.ifLastOk ? `if [ "\${hs-}" = 0 ]; then ${cmd}; else hs=-; fi` : cmd;
      this.ch.write(`${line}; printf '${m}%s\\n' "$hs"; printf '${m}\\n' >&2\n`);
    });
  }

  /** Kills what the session runs and closes it (a timeout, or the transport closing). */
  abandon(kill: (ch: ShellChannel) => void): void {
    if (this.ended) return;
    this.end('the remote shell was abandoned');
    kill(this.ch);
    this.ch.close();
  }

  // A result is complete when both streams carried the marker.
  private settle(): void {
    while (this.pending.length) {
      const o = this.out.indexOf(this.markerBytes);
      const e = this.err.indexOf(this.markerBytes);
      if (o < 0 || e < 0) return;
      const nl = this.out.indexOf(10, o);
      const enl = this.err.indexOf(10, e);
      if (nl < 0 || enl < 0) return;
      const status = this.out.subarray(o + this.markerBytes.length, nl).toString();
      const code = Number(status);
      const result: ExecResult = {
        stdout: this.out.subarray(0, o).toString('utf8'),
        stderr: this.err.subarray(0, e).toString('utf8'),
        // sh reports a program killed by signal N as 128+N: null, as an exec channel says it
        code: Number.isInteger(code) && code <= 128 ? code : null,
      };
      this.out = this.out.subarray(nl + 1);
      this.err = this.err.subarray(enl + 1);
      const p = this.pending.shift()!;
      if (status === '-') p.reject(new NotRunError());
      else p.resolve(result);
    }
  }

  private end(why: string): void {
    if (this.ended) return;
    this.ended = why;
    const waiting = this.pending.splice(0);
    this.onEnd(waiting.length ? (e) => { for (const p of waiting) p.reject(e); } : null);
  }
}

