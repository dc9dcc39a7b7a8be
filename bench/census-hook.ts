// Loaded into a `hotswap apply` process by the benchmark's profile runs only
// (`node --import dist/bench/census-hook.js ...`), never into the timed runs.
// It counts and times every SSH round trip hotswap makes (connection
// handshakes, the shell session and each command written to it, exec channels,
// SFTP sessions and uploads, direct-tcpip channels)
// by wrapping ssh2's Client, which the transport uses, and writes them
// with the process's resource usage to $HOTSWAP_BENCH_CENSUS at exit.
// It reads nothing but what hotswap sends; it changes no behaviour.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { SHELL_COMMAND, STDOUT_END } from '../src/transport/shell-session.js';

export interface CensusCall {
  conn: number;
  kind: string;
  startMs: number;
  ms: number;
  /** written to the shell behind the command before it, without waiting for its answer: no round trip of its own */
  behind?: boolean;
}

export interface Census {
  /** performance.timeOrigin: the process's start, epoch ms */
  timeOrigin: number;
  /** when this hook ran (ms after timeOrigin): node's own boot before any module of hotswap */
  hookLoadedMs: number;
  exitMs: number;
  connects: { conn: number; startMs: number; ms: number }[];
  calls: CensusCall[];
  resourceUsage: NodeJS.ResourceUsage;
}

type Cb = (err: Error | undefined, x: unknown) => void;
type ShellChannel = { write: (...a: unknown[]) => boolean; on(ev: 'data', f: (d: Buffer) => void): unknown };
type Emitter = { once(ev: string, f: (...a: unknown[]) => void): unknown };
type ClientProto = {
  connect(this: Emitter, cfg: unknown): unknown;
  exec(this: Emitter, cmd: string, opts: unknown, cb?: Cb): unknown;
  sftp(this: Emitter, env: unknown, cb?: Cb): unknown;
  forwardOut(this: Emitter, a: string, b: number, c: string, d: number, cb: Cb): unknown;
};

const out = process.env.HOTSWAP_BENCH_CENSUS;
const census: Census = { timeOrigin: performance.timeOrigin, hookLoadedMs: performance.now(), exitMs: 0, connects: [], calls: [], resourceUsage: process.resourceUsage() };

/** Which of hotswap's remote scripts a command line runs (they are constants: src/remote/*.sh). */
export function scriptKind(cmd: string): string {
  if (cmd.includes('#hotswap-facts 1')) return 'facts script';
  if (cmd.includes("'#hotswap-wait 1'")) {
    const mode = /' (new-master-ready|old-workers-exited|old-master-exited) [0-9]/.exec(cmd);
    return `wait ${mode?.[1] ?? '?'}`;
  }
  if (cmd.includes('refused: signal not allowed')) {
    const sig = /\b(USR2|WINCH|QUIT|HUP|TERM) [0-9]+'?\s*$/.exec(cmd);
    return `signal ${sig?.[1] ?? '?'}`;
  }
  if (cmd.includes('the backup copy has sha256')) return 'backup copy + sha256';
  if (cmd.includes('ls -1 --')) return 'prune backups';
  if (cmd.includes('the uploaded file has sha256')) return 'sha256 + chown + nginx -t';
  if (cmd.includes('mv -f -- "$1" "$2"')) return 'rename into place';
  if (cmd.includes('hotswap-restore')) return 'restore';
  if (cmd.includes('echo "result acquired"')) return 'lock take + journal tail';
  if (cmd.includes('IFS= read -r o')) return 'journal end + lock release';
  if (cmd.includes('sha "/proc/$pid/exe"')) return 'verify: master check + sha256';
  if (cmd.includes('"$2" >> "$1"')) return 'journal append';
  if (cmd.includes('tail -n 400')) return 'journal read';
  if (cmd.includes('-V 2>&1; echo "--- running"')) return 'nginx -V (new and running)';
  // anything else: its first words, without the sh -c wrapper and `set -u`
  return `other: ${cmd.replace(/^\(?sh -c '/, '').replace(/^set -u\s*/, '').replace(/\s+/g, ' ').slice(0, 40)}`;
}

if (out) {
  const require = createRequire(import.meta.url);
  const proto = (require('ssh2') as { Client: { prototype: ClientProto } }).Client.prototype;
  const ids = new WeakMap<object, number>();
  let nextId = 1;
  const idOf = (c: object): number => {
    const id = ids.get(c) ?? nextId++;
    ids.set(c, id);
    return id;
  };
  const timed = (client: object, kind: string, cb: Cb | undefined, onOpen?: (x: unknown, done: () => void) => void): Cb | undefined => {
    if (typeof cb !== 'function') return cb;
    const startMs = performance.now();
    const conn = idOf(client);
    const done = () => census.calls.push({ conn, kind, startMs, ms: performance.now() - startMs });
    return (err, x) => {
      if (err || !onOpen) done();
      else onOpen(x, done);
      cb(err, x);
    };
  };

  const { connect, exec, sftp, forwardOut } = proto;
  proto.connect = function (cfg) {
    const startMs = performance.now();
    const conn = idOf(this);
    this.once('ready', () => census.connects.push({ conn, startMs, ms: performance.now() - startMs }));
    return connect.call(this, cfg);
  };
  proto.exec = function (cmd, opts, cb) {
    if (typeof opts === 'function') [opts, cb] = [{}, opts as Cb];
    // the long-lived shell (src/transport/shell-session.ts): its opening is one
    // round trip, then every command written to it is one more
    if (cmd === SHELL_COMMAND) return exec.call(this, cmd, opts, timed(this, 'shell session', cb, (ch, done) => { done(); countShellCommands(this, ch as ShellChannel); }));
    // an exec round trip ends when its channel closes (the remote command has exited)
    return exec.call(this, cmd, opts, timed(this, scriptKind(cmd), cb, (ch, done) => (ch as Emitter).once('close', done)));
  };

  // A command is a line written to the shell; it is done when its exit status
  // comes back on stdout after the session's marker. Commands on one shell run
  // one after the other, so they finish in the order they were written.
  const countShellCommands = (client: object, ch: ShellChannel) => {
    const conn = idOf(client);
    const queue: { kind: string; startMs: number; behind: boolean }[] = [];
    const write = ch.write;
    ch.write = function (this: ShellChannel, ...a: unknown[]) {
      const line = String(a[0]);
      // `(COMMAND) </dev/null; hs=$?; printf MARKER...`, maybe inside `if [ "${hs-}" = 0 ]; then ...`: the command alone
      const cmd = line.replace(/^if \[ "\$\{hs-\}" = 0 \]; then /, '').replace(/^\(/, '').replace(/\) <\/dev\/null; hs=\$\?[\s\S]*$/, '');
      queue.push({ kind: scriptKind(cmd), startMs: performance.now(), behind: line.startsWith('if [ "${hs-}" = 0 ]') });
      return write.apply(this, a as Parameters<typeof write>);
    };
    // what follows the last end seen (a marker may arrive split across chunks)
    let tail = '';
    ch.on('data', (d: Buffer) => {
      tail += d.toString('latin1');
      let rest = 0;
      for (const end of tail.matchAll(STDOUT_END)) {
        rest = end.index! + end[0].length;
        const c = queue.shift();
        if (c) census.calls.push({ conn, kind: c.kind, startMs: c.startMs, ms: performance.now() - c.startMs, ...(c.behind ? { behind: true } : {}) });
      }
      tail = tail.slice(rest).slice(-64);
    });
  };
  proto.sftp = function (env, cb) {
    if (typeof env === 'function') [env, cb] = [undefined, env as Cb];
    const client = this;
    return sftp.call(this, env, timed(this, 'sftp session', cb, (s, done) => {
      done();
      // an upload (src/transport/ssh.ts): from the file's OPEN to its CLOSE's answer
      type Handle = Buffer;
      const session = s as {
        open: (p: string, f: string, a: unknown, cb: (e: Error | undefined, h: Handle) => void) => void;
        close: (h: Handle, cb: (e?: Error) => void) => void;
      };
      const { open, close } = session;
      const started = new WeakMap<Handle, (e?: Error) => void>();
      session.open = function (p, f, a, openCb) {
        const t = timed(client, 'sftp upload', () => undefined)!;
        return open.call(this, p, f, a, (e, h) => {
          if (h) started.set(h, (err) => t(err, undefined));
          openCb(e, h);
        });
      };
      session.close = function (h, closeCb) {
        const end = started.get(h);
        return close.call(this, h, (e?: Error) => {
          end?.(e);
          closeCb(e);
        });
      };
    }));
  };
  proto.forwardOut = function (a, b, c, d, cb) {
    return forwardOut.call(this, a, b, c, d, timed(this, 'direct-tcpip (HTTP check)', cb)!);
  };

  process.once('exit', () => {
    census.exitMs = performance.now();
    census.resourceUsage = process.resourceUsage();
    writeFileSync(out, JSON.stringify(census));
  });
}
