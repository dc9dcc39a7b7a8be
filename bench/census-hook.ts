// Loaded into a `hotswap apply` process by the benchmark's profile runs only
// (`node --import dist/bench/census-hook.js ...`), never into the timed runs.
// It counts and times every SSH round trip hotswap makes (connection
// handshakes, exec channels, SFTP sessions and uploads, direct-tcpip channels)
// by wrapping ssh2's Client, which node-ssh uses underneath, and writes them
// with the process's resource usage to $HOTSWAP_BENCH_CENSUS at exit.
// It reads nothing but what hotswap sends; it changes no behaviour.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface CensusCall {
  conn: number;
  kind: string;
  startMs: number;
  ms: number;
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
type Emitter = { once(ev: string, f: (...a: unknown[]) => void): unknown };
type ClientProto = {
  connect(this: Emitter, cfg: unknown): unknown;
  exec(this: Emitter, cmd: string, opts: unknown, cb?: Cb): unknown;
  sftp(this: Emitter, env: unknown, cb?: Cb): unknown;
  forwardOut(this: Emitter, a: string, b: number, c: string, d: number, cb: Cb): unknown;
};

const out = process.env.HOTSWAP_BENCH_CENSUS;
const census: Census = { timeOrigin: performance.timeOrigin, hookLoadedMs: performance.now(), exitMs: 0, connects: [], calls: [], resourceUsage: process.resourceUsage() };

/** Which of hotswap's remote scripts a command line runs (they are constants; see src/nginx/scripts.ts, src/steps/file-ops.ts). */
export function scriptKind(cmd: string): string {
  if (cmd.includes("'#hotswap-facts 1'")) return 'facts script';
  if (cmd.includes("'#hotswap-wait 1'")) {
    const mode = /' hotswap (new-master-ready|old-workers-exited|old-master-exited) /.exec(cmd);
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
  if (cmd.includes('"$2" >> "$1"')) return 'journal append';
  if (cmd.includes('tail -n 400')) return 'journal read';
  if (cmd.includes('mkdir -- "$1"')) return 'lock take';
  if (cmd.includes('grep -q')) return 'lock release';
  if (cmd.includes('-V 2>&1; echo "--- running"')) return 'nginx -V (new and running)';
  // anything else: its first words, without the sh -c wrapper and `set -u`
  return `other: ${cmd.replace(/^sh -c '/, '').replace(/^set -u\s*/, '').replace(/\s+/g, ' ').slice(0, 40)}`;
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
    // an exec round trip ends when its channel closes (the remote command has exited)
    return exec.call(this, cmd, opts, timed(this, scriptKind(cmd), cb, (ch, done) => (ch as Emitter).once('close', done)));
  };
  proto.sftp = function (env, cb) {
    if (typeof env === 'function') [env, cb] = [undefined, env as Cb];
    const client = this;
    return sftp.call(this, env, timed(this, 'sftp session', cb, (s, done) => {
      done();
      const session = s as { fastPut: (l: string, r: string, o: unknown, cb: (e?: Error) => void) => void };
      const fastPut = session.fastPut;
      session.fastPut = function (l, r, o, putCb) {
        const t = timed(client, 'sftp upload', putCb as Cb)!;
        return fastPut.call(this, l, r, o, (e?: Error) => t(e, undefined));
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
