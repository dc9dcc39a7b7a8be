import { spawn } from 'node:child_process';
import { open, statfs } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { commandLine } from './quote.js';
import { NotRunError, settledQuietly, UnreachableError, type Command, type ExecOptions, type ExecResult, type Transport } from './transport.js';

// Why: `connection: local` runs the same steps on this machine, with no shell in
// between, so a value in argv is always one argument.
export class LocalTransport implements Transport {
  private closed = false;
  /** programs still running: an abandoned wait must not keep hotswap alive once the host is done */
  private readonly running = new Set<number>();

  constructor(readonly host: string) {}

  openTcp(address: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const sock = connect({ host: address, port }, () => resolve(sock));
      sock.once('error', reject);
    });
  }

  exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.spawn(argv, opts);
  }

  // Each command is started once the one before it exited 0.
  sequence(commands: readonly Command[]): Array<Promise<ExecResult>> {
    let before: Promise<ExecResult | null> | null = null;
    return commands.map((c) => {
      const result = settledQuietly(before
        ? before.then((r) => { if (r?.code !== 0) throw new NotRunError(); return this.spawn(c.argv, c); })
        : this.spawn(c.argv, c));
      before = result.catch(() => null);
      return result;
    });
  }

  private spawn(argv: readonly string[], opts: ExecOptions): Promise<ExecResult> {
    if (argv.length === 0) return Promise.reject(new Error('exec: empty argv'));
    if (this.closed) return Promise.reject(new UnreachableError(this.host, `${this.host}: transport closed`));
    return new Promise((resolve, reject) => {
      // Own process group, so a timeout kills whatever the program started too.
      const child = spawn(argv[0]!, argv.slice(1), { stdio: 'pipe', detached: true });
      if (child.pid !== undefined) this.running.add(child.pid);
      const pid = child.pid;
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = (f: () => void) => {
        if (done) return;
        done = true;
        if (pid !== undefined) this.running.delete(pid);
        clearTimeout(timer);
        f();
      };

      child.stdout.on('data', (d: Buffer) => stdout.push(d));
      child.stderr.on('data', (d: Buffer) => stderr.push(d));
      child.stdin.on('error', () => undefined); // the program may exit without reading stdin
      child.stdin.end(opts.stdin ?? '');
      child.once('error', (e: NodeJS.ErrnoException) => {
        // Same outcome as a shell over SSH: 127 not found, 126 not executable.
        const code = e.code === 'ENOENT' ? 127 : e.code === 'EACCES' ? 126 : null;
        if (code === null) return finish(() => reject(e));
        finish(() => resolve({ stdout: '', stderr: `${argv[0]}: ${e.code === 'ENOENT' ? 'not found' : 'permission denied'}\n`, code }));
      });
      child.once('close', (code) => finish(() => resolve({
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        code,
      })));
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(() => finish(() => {
          killGroup(child.pid!);
          reject(timeoutError(this.host, argv, opts.timeoutMs!));
        }), opts.timeoutMs);
      }
    });
  }

  async put(data: Buffer, remotePath: string): Promise<void> {
    if (this.closed) throw new UnreachableError(this.host, `${this.host}: transport closed`);
    if (!isAbsolute(remotePath)) throw new Error(`${this.host}: put needs an absolute path, got ${remotePath}`);
    // Create (or narrow) the file as 0600 before any content lands in it.
    const fh = await open(remotePath, 'w', 0o600);
    try {
      await fh.chmod(0o600);
      await fh.writeFile(data);
    } finally {
      await fh.close();
    }
  }

  async freeBytes(dir: string): Promise<number | undefined> {
    const st = await statfs(dir).catch(() => undefined);
    return st ? st.bavail * st.bsize : undefined;
  }

  // Like a closed SSH connection: what still runs (a wait given up on after
  // an interrupt) is stopped, with whatever it started.
  async close(): Promise<void> {
    this.closed = true;
    for (const pid of this.running) killGroup(pid);
    this.running.clear();
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export function timeoutError(host: string, argv: readonly string[], ms: number): Error {
  const e = new Error(`${host}: \`${commandLine(argv).slice(0, 200)}\` timed out after ${ms} ms`);
  e.name = 'TimeoutError';
  return e;
}
