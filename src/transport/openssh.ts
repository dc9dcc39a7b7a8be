// ssh.client: openssh — the operator's own `ssh` as the transport, so that
// whatever it can do and hotswap's built-in client cannot (FIDO and PKCS#11
// keys, GSSAPI, certificates, any ProxyCommand) works. One master connection
// per host (`ssh -M -N`, a process we own by pid, its control socket in a
// private 0700 directory); every command is a client of that master.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { Duplex } from 'node:stream';
import { timeoutError } from './local.js';
import { clientArgs, exitArgs, masterArgs, type OpensshTarget } from './openssh-args.js';
import { commandLine } from './quote.js';
import { NotRunError, settledQuietly, UnreachableError, type Command, type ExecOptions, type ExecResult, type PutOptions, type Transport } from './transport.js';
import { Slots } from './slots.js';

export type OpensshOptions = OpensshTarget & {
  /** the host's name in the playbook */
  host: string;
  /** the ssh program; default `ssh` from PATH */
  ssh?: string;
};

/** Sessions at once on the master: below sshd's default MaxSessions (10), with room for a kill. */
const MAX_SESSIONS = 8;
const DEFAULT_CONNECT_MS = 10_000;
/** beyond the connect timeout: a FIDO key's touch, a ProxyCommand's own login */
const AUTH_GRACE_MS = 20_000;
const KEEP_STDERR = 4096;
/** where the remote shell reports its pid and the program's status (see run) */
const SAY_PID = 'm=$1; shift; printf \'%s %s\\n\' "$m" "$$" >&2; ';
const RUN = '("$@"); s=$?; printf \'%s %s\\n\' "$m" "$s" >&2';
const WRAPPER = SAY_PID + RUN;
/** waits for `run` on stdin (see exec); anything else, or EOF, and it exits without running */
const GATED = SAY_PID + 'read -r go || exit 0; [ "$go" = run ] || exit 0; ' + RUN;

// Masters and clients run in their own sessions (no terminal to prompt on, and
// a Ctrl-C for hotswap's graceful stop does not kill them): stopped on exit.
const children = new Set<number>();
let exitHook = false;
function own(child: ChildProcess): void {
  const pid = child.pid;
  if (pid === undefined) return;
  children.add(pid);
  child.once('exit', () => children.delete(pid));
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => { for (const p of children) kill(p, 'SIGTERM'); });
  }
}

// Why: the master is the one connection; it is up once ssh has logged in and
// opened its control socket. Its own words say why when it is not.
export async function connectOpenssh(opts: OpensshOptions): Promise<OpensshTransport> {
  const where = `${opts.host} (ssh ${opts.destination})`;
  const unreachable = (why: string) => new UnreachableError(opts.host, `${where}: ${why}`);
  if (opts.identityFile !== undefined && !existsSync(expandHome(opts.identityFile))) {
    throw unreachable(`identity file ${opts.identityFile} does not exist`);
  }
  const dir = await mkdtemp(join(socketBase(), 'hotswap-ssh-')); // mode 0700
  const controlPath = join(dir, 'master');
  const ssh = opts.ssh ?? 'ssh';
  const master = spawn(ssh, masterArgs(opts, controlPath), { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: sshEnv() });
  own(master);
  let stderr = '';
  master.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-KEEP_STDERR); });
  const ended = new Promise<string>((resolve) => {
    master.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ENOENT'
      ? `cannot run ${ssh}: not found (ssh.client: openssh needs OpenSSH's ssh: apt-get install openssh-client)`
      : `cannot run ${ssh}: ${e.message}`));
    master.once('close', (code, signal) => resolve(`ssh ${signal ? `was killed by ${signal}` : `exited with status ${code}`}${describe(stderr)}`));
  });
  const limit = (opts.connectTimeoutMs ?? DEFAULT_CONNECT_MS) + AUTH_GRACE_MS;
  let timer: NodeJS.Timeout | undefined;
  const why = await Promise.race([
    ended,
    waitFor(() => existsSync(controlPath), () => master.exitCode === null).then(() => null),
    new Promise<string>((r) => { timer = setTimeout(() => r(`no connection within ${limit} ms${describe(stderr)}`), limit); }),
  ]);
  clearTimeout(timer);
  if (why !== null) {
    if (master.pid !== undefined && master.exitCode === null) kill(master.pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw unreachable(why);
  }
  return new OpensshTransport(opts, where, ssh, dir, controlPath, master, ended, () => stderr);
}

type Running = { child: ChildProcess; pid?: number };
type RunOptions = ExecOptions & { signal?: AbortSignal; gate?: Promise<boolean> };

export class OpensshTransport implements Transport {
  readonly host: string;
  private lost: string | null = null;
  private closed = false;
  private readonly slots = new Slots(MAX_SESSIONS);
  private readonly running = new Set<Running>();
  private readonly client: string[];

  constructor(
    private readonly opts: OpensshOptions, private readonly where: string, private readonly ssh: string,
    private readonly dir: string, private readonly controlPath: string,
    private readonly master: ChildProcess, masterEnded: Promise<string>, private readonly masterStderr: () => string,
  ) {
    this.host = opts.host;
    this.client = clientArgs(controlPath);
    void masterEnded.then((why) => { if (!this.closed) this.lost ??= `connection lost (${why})`; });
  }

  exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.queued(argv, opts);
  }

  // Each command is started at once but waits on the host for a word on its
  // stdin, sent when the one before exited 0: only a round trip remains
  // between them (not a new ssh client and session).
  sequence(commands: readonly Command[]): Array<Promise<ExecResult>> {
    let before: Promise<ExecResult | null> | null = null;
    return commands.map((c) => {
      const gate = before ? before.then((r) => r?.code === 0) : undefined;
      const result = settledQuietly(this.queued(c.argv, { ...c, ...(gate ? { gate } : {}) }));
      before = result.catch(() => null);
      return result;
    });
  }

  // Streamed into `cat` through the master (ssh has no SFTP client to drive
  // here): the file is made 0600 before any byte lands in it.
  async put(data: Buffer, remotePath: string, opts: PutOptions = {}): Promise<void> {
    if (!isAbsolute(remotePath)) throw new Error(`${this.host}: put needs an absolute path, got ${remotePath}`);
    const script = 'umask 077 && { [ ! -e "$1" ] || chmod 600 "$1"; } && cat > "$1"';
    const r = await this.queued(['sh', '-c', script, 'sh', remotePath], { stdin: data, ...(opts.signal ? { signal: opts.signal } : {}) });
    if (r.code !== 0) throw new Error(`${this.host}: upload to ${remotePath} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  // freeBytes is left out: over ssh it would start a process (`df`) on the
  // host, and the interface asks for an answer without one.

  // `ssh -W` through the master: the host's sshd opens the connection.
  async openTcp(address: string, port: number): Promise<Duplex> {
    this.usable();
    const target = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
    const child = spawn(this.ssh, [...this.client, '-W', target, '--', this.opts.destination], { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env: sshEnv() });
    own(child);
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-KEEP_STDERR); });
    child.stdin!.on('error', () => undefined);
    // The end of the stream waits for ssh's exit: a failed open is an error that says why, not an early EOF.
    const sock = new Duplex({
      read: () => { child.stdout!.resume(); },
      write: (chunk: Buffer, _enc, done) => { child.stdin!.write(chunk, () => done()); },
      final: (done) => { child.stdin!.end(); done(); },
      destroy: (err, done) => {
        if (child.exitCode === null && child.pid !== undefined) kill(child.pid, 'SIGTERM');
        done(err);
      },
    });
    child.stdout!.on('data', (d: Buffer) => { if (!sock.push(d)) child.stdout!.pause(); });
    child.once('close', (code) => {
      if (sock.destroyed) return;
      if (code === 0) sock.push(null);
      else sock.destroy(new Error(`${this.host}: cannot open ${address}:${port} from the host (ssh exit ${code})${describe(stderr)}`));
    });
    child.once('error', (e) => sock.destroy(new Error(`${this.host}: cannot run ${this.ssh}: ${e.message}`)));
    return sock;
  }

  // A command still running (a wait given up on) is killed on the host first,
  // then the master is asked to exit, and killed by its pid if it does not.
  async close(): Promise<void> {
    if (this.closed) return;
    const kills = [...this.running].map((r) => this.killRemote(r));
    await Promise.race([Promise.all(kills), sleep(2_000)]);
    this.closed = true;
    for (const r of this.running) if (r.child.pid !== undefined) kill(r.child.pid, 'SIGKILL');
    if (this.master.exitCode === null && this.master.signalCode === null) {
      const gone = new Promise<void>((r) => this.master.once('close', () => r()));
      const ask = spawn(this.ssh, exitArgs(this.controlPath, this.opts.destination), { stdio: 'ignore', detached: true, env: sshEnv() });
      own(ask);
      ask.once('error', () => undefined);
      if (!(await Promise.race([gone.then(() => true), sleep(2_000).then(() => false)])) && this.master.pid !== undefined) {
        kill(this.master.pid, 'SIGTERM');
        if (!(await Promise.race([gone.then(() => true), sleep(2_000).then(() => false)]))) kill(this.master.pid, 'SIGKILL');
      }
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  /** The master's last words (for a test or a message); never holds a secret. */
  masterOutput(): string {
    return this.masterStderr();
  }

  private usable(): void {
    if (this.closed) throw new UnreachableError(this.host, `${this.where}: connection closed`);
    if (this.lost) throw new UnreachableError(this.host, `${this.where}: ${this.lost}`);
  }

  private async queued(argv: readonly string[], opts: RunOptions): Promise<ExecResult> {
    if (argv.length === 0) throw new Error('exec: empty argv');
    this.usable();
    await this.slots.take();
    try {
      this.usable();
      return await this.run(argv, opts);
    } finally {
      this.slots.give();
    }
  }

  // The remote line is `exec sh -c WRAPPER sh MARKER argv...`, all quoted
  // words: sh says its pid (the session's process group, which sshd made:
  // what a timeout kills) and, after the program, its exit status, both on
  // stderr behind a random marker. So a status from the host is never
  // confused with ssh's own 255, and a missing one means the connection ended.
  private run(argv: readonly string[], opts: RunOptions): Promise<ExecResult> {
    const marker = `__hotswap_${randomBytes(12).toString('hex')}__`;
    const line = commandLine(['exec', 'sh', '-c', opts.gate ? GATED : WRAPPER, 'sh', marker, ...argv]);
    return new Promise<ExecResult>((resolve, reject) => {
      const child = spawn(this.ssh, [...this.client, '--', this.opts.destination, line], { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env: sshEnv() });
      own(child);
      const entry: Running = { child };
      this.running.add(entry);
      const out: Buffer[] = [];
      let err = Buffer.alloc(0);
      const head = Buffer.from(`${marker} `);
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (f: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        f();
      };
      const stop = () => {
        void this.killRemote(entry);
        if (child.pid !== undefined) kill(child.pid, 'SIGKILL');
      };
      const onAbort = () => finish(() => { stop(); reject(new Error(`${this.host}: interrupted`)); });
      child.stdout!.on('data', (d: Buffer) => out.push(d));
      child.stderr!.on('data', (d: Buffer) => {
        err = Buffer.concat([err, d]);
        const at = entry.pid === undefined ? markerAt(err, head) : -1;
        if (at >= 0 && err.indexOf(10, at) > 0) entry.pid = Number(err.subarray(at + head.length, err.indexOf(10, at)).toString());
      });
      child.stdin!.on('error', () => undefined); // the program may exit without reading it
      const arm = () => {
        if (settled || opts.timeoutMs === undefined) return;
        timer = setTimeout(() => finish(() => { stop(); reject(timeoutError(this.host, argv, opts.timeoutMs!)); }), opts.timeoutMs);
      };
      if (!opts.gate) {
        child.stdin!.end(opts.stdin ?? '');
        arm();
      } else {
        void opts.gate.then((go) => {
          if (settled) return;
          if (!go) {
            child.stdin!.end(); // EOF: the host exits without running it
            return finish(() => reject(new NotRunError()));
          }
          child.stdin!.write('run\n');
          child.stdin!.end(opts.stdin ?? '');
          arm();
        });
      }
      child.once('error', (e) => finish(() => { this.running.delete(entry); reject(new UnreachableError(this.host, `${this.where}: cannot run ${this.ssh}: ${e.message}`)); }));
      child.once('close', (code) => {
        this.running.delete(entry);
        finish(() => {
          const result = parseResult(out, err, head);
          if (result) return resolve(result);
          const text = describe(err.toString('utf8'));
          if (this.lost || this.closed || code === 255) {
            return reject(new UnreachableError(this.host, `${this.where}: ${this.lost ?? (this.closed ? 'connection closed' : `ssh failed${text}`)}`));
          }
          reject(new Error(`${this.host}: the remote command ended without its status (ssh exit ${code})${text}`));
        });
      });
      if (opts.signal?.aborted) onAbort();
      else opts.signal?.addEventListener('abort', onAbort);
    });
  }

  // Kills the program's process group on the host, through the master, outside the session limit.
  private async killRemote(r: Running): Promise<void> {
    if (r.pid === undefined || !Number.isInteger(r.pid) || r.pid <= 1 || this.closed || this.lost) return;
    const pid = r.pid;
    r.pid = undefined;
    await this.run(['kill', '-s', 'KILL', '--', `-${pid}`], { timeoutMs: 5_000 }).catch(() => undefined);
  }

}

/** The program's result from the wrapper's stderr: null when its status never came. */
// The first marker line: at the start of stderr, or after what the login
// shell's own startup files printed there (a .bashrc that writes to stderr).
function markerAt(err: Buffer, head: Buffer): number {
  if (err.subarray(0, head.length).equals(head)) return 0;
  const i = err.indexOf(Buffer.concat([Buffer.from('\n'), head]));
  return i < 0 ? -1 : i + 1;
}

/** The program's result from its stdout and the marked stderr (exported for its unit test). */
export function parseResult(out: Buffer[], err: Buffer, head: Buffer): ExecResult | null {
  const at = markerAt(err, head);
  const first = at < 0 ? -1 : err.indexOf(10, at);
  if (first < 0) return null;
  const end = err.lastIndexOf(head);
  if (end <= first) return null;
  const m = /^(\d+)\n/.exec(err.subarray(end + head.length).toString());
  if (!m) return null;
  const code = Number(m[1]);
  return {
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: err.subarray(first + 1, end).toString('utf8'),
    // sh reports a program killed by signal N as 128+N: null, as the built-in client says it
    code: code <= 128 ? code : null,
  };
}

/** ssh never asks: no terminal (own session), no askpass program. */
function sshEnv(): NodeJS.ProcessEnv {
  return { ...process.env, SSH_ASKPASS_REQUIRE: 'never' };
}

// A unix socket path is limited to 108 bytes: a long TMPDIR falls back to /tmp.
function socketBase(): string {
  const t = tmpdir();
  return t.length <= 60 && /^[A-Za-z0-9_./-]+$/.test(t) ? t : '/tmp';
}

/** What ssh said, bounded and with control characters escaped: text from another program. */
function describe(text: string): string {
  const t = text
    .split('\n').map((l) => l.trim()).filter(Boolean).slice(-4).join(' | ')
    // eslint-disable-next-line no-control-regex
    .replace(/[\x00-\x1f\x7f\x80-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .slice(-600);
  return t ? `: ${t}` : '';
}

function waitFor(cond: () => boolean, alive: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (cond()) return resolve();
      if (alive()) setTimeout(check, 10);
    };
    check();
  });
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

function kill(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}
