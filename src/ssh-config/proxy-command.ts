// ProxyCommand: the operator's command carries the SSH connection on its
// stdin/stdout, as `ssh` runs it (sshconnect.c ssh_proxy_connect): `exec CMD`
// through $SHELL (else /bin/sh) with %h %k %n %p %r %% expanded.
import { spawn, type ChildProcess } from 'node:child_process';
import { Duplex } from 'node:stream';
import { percentExpand } from './tokens.js';

export interface ProxyTokens {
  /** the host connected to (HostName) */
  h: string;
  /** the host as typed (the playbook's address) */
  n: string;
  p: string;
  r: string;
  /** HostKeyAlias, else the host as typed */
  k: string;
}

/** The command line ssh would run; throws on a token ssh does not give ProxyCommand. */
export function expandProxyCommand(command: string, tokens: ProxyTokens): string {
  return percentExpand(`exec ${command}`, { ...tokens });
}

const STDERR_KEEP = 2048;
/** how long stdout may outlive the command (a child of it holding the pipe) before the connection ends */
const STDOUT_GRACE_MS = 200;

export interface ProxyProcess {
  sock: Duplex;
  /** what the command said on stderr (control characters escaped, the last 2 KB), and how it ended */
  describe(): string;
  /** resolves once the command has exited and its stderr is read (or after `ms`): describe() is then complete */
  settled(ms: number): Promise<void>;
  /** ends the command (by its pid); safe to call more than once */
  kill(): void;
}

// Why: its stderr is the only clue when the proxy fails (no route, no
// credentials), so it is kept for the error text, bounded and escaped: it is
// text from another program, never printed raw.
export function spawnProxyCommand(commandLine: string): ProxyProcess {
  const shell = process.env.SHELL || '/bin/sh';
  const child: ChildProcess = spawn(shell, ['-c', commandLine], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let ended: string | null = null;
  let stderrDone = false;
  const waiters: Array<() => void> = [];
  const wake = () => { if (ended !== null && stderrDone) waiters.splice(0).forEach((w) => w()); };
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => { stderr = (stderr + d).slice(-STDERR_KEEP * 2); });
  child.stderr!.on('close', () => { stderrDone = true; wake(); });
  child.on('exit', (code, signal) => { ended = signal ? `killed by ${signal}` : `exited with status ${code}`; wake(); });
  child.on('error', (e) => { ended = `could not start: ${e.message}`; stderrDone = true; wake(); });
  const sock = new ProxySock(child);
  return {
    sock,
    describe: () => {
      const text = escapeText(stderr.slice(-STDERR_KEEP).trim());
      return [`ProxyCommand ${ended ?? 'still running'}`, text ? `its stderr: ${text}` : 'nothing on its stderr'].join('; ');
    },
    settled: (ms) => new Promise<void>((resolve) => {
      if (ended !== null && stderrDone) return resolve();
      const t = setTimeout(resolve, ms);
      waiters.push(() => { clearTimeout(t); resolve(); });
    }),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try { process.kill(child.pid, 'SIGTERM'); } catch { /* already gone */ }
      }
      sock.destroy();
    },
  };
}

// Why: the connection is the command's stdout/stdin. When the command exits,
// the stream ends (after what it wrote is read), so ssh2 sees "connection
// lost" at once instead of waiting out its handshake timeout. The stream is
// never destroyed behind ssh2's back: ssh2 attaches its listeners late (after
// the keys are read) and would miss a 'close' emitted before that, and a
// write to the gone command is an error ssh2 hears about.
class ProxySock extends Duplex {
  private done = false;

  constructor(private readonly child: ChildProcess) {
    super();
    const out = child.stdout!;
    out.on('data', (d: Buffer) => { if (!this.done && !this.push(d)) out.pause(); });
    out.on('end', () => this.finishReading());
    out.on('error', () => this.finishReading());
    child.stdin!.on('error', () => undefined); // EPIPE when the command is gone: the write callback reports it
    // a child of the command may hold stdout open: the command's exit is the end
    child.on('exit', () => setTimeout(() => this.finishReading(), STDOUT_GRACE_MS).unref());
    child.on('error', () => this.finishReading());
    this.on('error', () => undefined); // reported through ssh2 (or describe()), never thrown
  }

  private finishReading(): void {
    if (this.done) return;
    this.done = true;
    this.push(null);
  }

  override _read(): void {
    this.child.stdout!.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    const stdin = this.child.stdin!;
    if (this.child.exitCode !== null || this.child.signalCode !== null || stdin.destroyed || !stdin.writable) {
      cb(new Error('the ProxyCommand is gone'));
      return;
    }
    stdin.write(chunk, (e) => cb(e ?? null));
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.child.stdin!.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.finishReading();
    this.child.stdout!.destroy();
    this.child.stdin!.destroy();
    cb(err);
  }
}

function escapeText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).replace(/\n/g, ' | ');
}
