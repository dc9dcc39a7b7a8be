import type { Duplex } from 'node:stream';

// What hotswap needs from a host, and nothing about nginx: run a program with
// arguments, put a file, close. Dry run and apply use the same transports.
export interface ExecResult {
  stdout: string;
  stderr: string;
  /** exit status; null when the remote program was killed by a signal */
  code: number | null;
}

export interface ExecOptions {
  /** bytes written to the program's stdin, then stdin is closed */
  stdin?: string | Buffer;
  /** give up (and kill the remote program where possible) after this long */
  timeoutMs?: number;
}

/** One command of a sequence (see Transport.sequence). */
export interface Command {
  /** quoted by commandLine(), as for exec */
  argv: readonly string[];
  /** bytes written to the program's stdin, then stdin is closed */
  stdin?: string | Buffer;
  /** counted from when the command before it is done */
  timeoutMs?: number;
}

export interface Transport {
  /** the host's name as the playbook calls it */
  readonly host: string;
  /** argv is quoted by commandLine(); never pass a preformatted shell line */
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /**
   * Runs the commands one after another, each only if the one before exited
   * 0; a command that did not run rejects with NotRunError. All are handed to
   * the host at once (over SSH: written behind each other on one shell, one
   * round trip for all), so nothing the caller does in between can come
   * between them. One promise per command, settled as soon as that command is
   * done: the first result can be used while the rest still run. A promise
   * the caller never awaits does not count as an unhandled rejection.
   */
  sequence(commands: readonly Command[]): Array<Promise<ExecResult>>;
  /** write these bytes to a file at an absolute path on the host (mode 0600 until changed) */
  put(data: Buffer, remotePath: string, opts?: PutOptions): Promise<void>;
  /**
   * Bytes free to an unprivileged writer in the file system that holds this
   * directory, asked without starting a process on the host; undefined when
   * the host cannot tell (no SFTP, no statvfs, no such directory).
   */
  freeBytes?(dir: string): Promise<number | undefined>;
  /** a TCP connection made from the host itself (127.0.0.1 is the host) */
  openTcp(address: string, port: number): Promise<Duplex>;
  close(): Promise<void>;
}

export interface PutOptions {
  /** stop sending (the file is left partial, for the caller to remove) and reject */
  signal?: AbortSignal;
}

/** A command of a sequence that did not run: the command before it failed. */
export class NotRunError extends Error {
  constructor() {
    super('not run: the command before it failed');
    this.name = 'NotRunError';
  }
}

/** A connection could not be made or was lost: the host is "unreachable". */
export class UnreachableError extends Error {
  constructor(readonly host: string, message: string) {
    super(message);
    this.name = 'UnreachableError';
  }
}

/** The promise itself, marked as handled: a sequence's later results may never be awaited. */
export function settledQuietly<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}
