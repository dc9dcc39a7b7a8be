// What a host's nginx looks like, gathered in one round trip (src/remote/facts.sh) and
// parsed here without touching the host.
//
// Seen on real nginx 1.22 (Debian), and why the facts are what they are:
// - A master's /proc/PID/cmdline is its title, `nginx: master process ` + the
//   original argv joined by spaces; the argv boundaries are gone. argv[0] is
//   recovered by the script (the shortest space-separated prefix that names a
//   file), the options by parseMasterTitle.
// - /proc/PID/environ is useless: setproctitle overwrote the environment area
//   (it holds the end of the title and NUL padding), so the NGINX= variable a
//   new binary was started with cannot be read back.
// - /proc/PID/exe is the file that was exec'd (not argv[0], which USR2 will
//   exec); it reads `... (deleted)` once the binary was renamed over, and
//   hashing the link still hashes the running image.
import type { ExecOptions, Transport } from '../transport/transport.js';
import { decodeStr, hexToString, int, parseLines, ScriptOutputError, type RawProc } from './format.js';
import { isLive, PF_FORKNOEXEC, toProcessInfo, type ProcessInfo } from './process.js';
import { runScript } from '../remote/run.js';

export type { ProcessInfo, ProcessRole } from './process.js';

export type FileState = 'absent' | 'empty' | 'present' | 'unreadable';

export interface PidFileInfo {
  path: string;
  /** `present` means non-empty: nginx truncates, then writes, so empty = not written yet */
  state: FileState;
  /** raw content (first 64 bytes) */
  content?: string;
  /** the content is a pid */
  pid?: number;
  /** ctime as `stat -c %z` prints it; opaque. A rename (to .oldbin and back)
   * changes it: pass it to waitFor() as pidFileCtimeAtStart. */
  ctime?: string;
}

/** The little known about a related process (parent, session leader). */
export interface PeekInfo {
  exists: boolean;
  state?: string;
  nginxMaster: boolean;
}

/** The master's original arguments, recovered from its title. */
export interface MasterArgs {
  argv0: string;
  /** the words after argv[0]; nginx joined its argv with spaces, so an argument
   * containing a space shows up as several words */
  words: string[];
  prefix?: string;
  conf?: string;
  globals?: string;
  /** an option value spanned several words (normal for -g, suspicious for -p/-c) */
  ambiguous: boolean;
}

/**
 * Whether USR2 would exec argv[0] at all: `absolute` as is; `relative` against
 * the master's cwd; `bare` (no slash) never works: execve does no PATH search.
 */
export type Argv0Kind = 'absolute' | 'relative' | 'bare' | 'unknown';

export type Daemonized = 'yes' | 'no' | 'unknown';

export interface DaemonInfo {
  daemonized: Daemonized;
  /** which rule decided, in words (see daemonRule) */
  rule: string;
}

export interface MasterInfo extends ProcessInfo {
  /** cmdline is `nginx: master process ...` */
  isNginxMaster: boolean;
  cwd?: string;
  /** readlink /proc/PID/exe as read; ends with " (deleted)" once the file was replaced */
  exe?: string;
  exeDeleted: boolean;
  /** sha256 of the running image (/proc/PID/exe opens it even when deleted) */
  exeSha256?: string;
  exeDevIno?: string;
  /** kill -0 succeeded as the script's uid (true for a zombie too) */
  canSignal: boolean;
  parent?: PeekInfo;
  sessionLeader?: PeekInfo;
  argv0Kind: Argv0Kind;
  argv0?: string;
  /** the file USR2 will execve (argv[0], relative ones joined to cwd) */
  execPath?: string;
  execExists: boolean;
  execDevIno?: string;
  /** execPath is the same file (dev:ino) as the binary path; null = cannot tell */
  execIsBinary: boolean | null;
  args?: MasterArgs;
  daemon: DaemonInfo;
  children: ProcessInfo[];
  /** live worker (and cache) children */
  workers: number[];
  /** a live child titled as a master that has exec'd: the new binary of an upgrade in progress */
  newMasterChild?: number;
  /** a live child that has exec'd, titled as a master or not (yet): the process USR2 started */
  usr2Child?: number;
}

export interface BinaryInfo {
  path: string;
  exists: boolean;
  regular?: boolean;
  sha256?: string;
  /** permission bits in octal, as `stat -c %a` prints them: "755" */
  mode?: string;
  uid?: number;
  gid?: number;
  size?: number;
  devIno?: string;
  dirExists: boolean;
  dirWritable?: boolean;
  /** bytes available to an unprivileged writer in the binary's directory */
  dirFreeBytes?: number;
}

export interface ErrorLogInfo {
  path: string;
  exists: boolean;
  /** bytes; pass to waitFor() as errorLogSizeAtStart */
  size?: number;
  /** the last (up to) 20 lines */
  tail: string[];
}

export interface HostFacts {
  /** uid the script ran as */
  uid: number;
  pidFile: PidFileInfo;
  oldbinFile: PidFileInfo;
  /** the process the pid file names (null: no pid in the pid file) */
  master: MasterInfo | null;
  /** the process `<pidFile>.oldbin` names: an upgrade in progress */
  oldMaster: MasterInfo | null;
  binary: BinaryInfo;
  errorLog: ErrorLogInfo;
  /** .oldbin exists, or the master has a new-master child, or is one */
  upgradeInProgress: boolean;
  /** why a hot upgrade must not start now; empty = go */
  blockers: string[];
}

export interface FactsPaths {
  pidFile: string;
  binary: string;
  errorLog: string;
}

/** Run src/remote/facts.sh on a host (one round trip) and parse it. */
export async function gatherFacts(t: Transport, paths: FactsPaths, opts: ExecOptions = {}): Promise<HostFacts> {
  for (const [name, p] of Object.entries(paths)) {
    if (!p.startsWith('/')) throw new Error(`${name} must be an absolute path: ${p}`);
  }
  const r = await runScript(t, 'facts', [paths.pidFile, paths.binary, paths.errorLog], { timeoutMs: 20_000, ...opts });
  if (r.code !== 0) {
    throw new ScriptOutputError(`facts script failed on ${t.host} (exit ${r.code}): ${r.stderr.trim()}`, r.stdout);
  }
  return parseFacts(r.stdout);
}

export function parseFacts(stdout: string): HostFacts {
  const raw = parseLines(stdout, 'facts');
  const one = (k: string): string | undefined => raw.values.get(k)?.[0];
  /** a `_s` string value */
  const str = (k: string): string | undefined => {
    const v = one(k);
    return v === undefined ? undefined : decodeStr(v);
  };
  const flag = (k: string): boolean | undefined => {
    const v = one(k);
    return v === undefined ? undefined : v === '1';
  };

  const pidFileInfo = (k: string): PidFileInfo => {
    const state = one(`${k}.state`);
    const info: PidFileInfo = {
      path: str(`${k}.path_s`) ?? '',
      state: state === 'empty' || state === 'present' || state === 'unreadable' ? state : 'absent',
    };
    // content_hex: raw bytes; line_s: one line and its newline; content_s: one line without
    const contentHex = one(`${k}.content_hex`);
    const line = str(`${k}.line_s`);
    const content = contentHex !== undefined ? hexToString(contentHex) : line !== undefined ? `${line}\n` : str(`${k}.content_s`);
    if (content !== undefined) info.content = content;
    const pid = int(one(`${k}.pid`));
    if (pid !== undefined) info.pid = pid;
    const ctime = one(`${k}.ctime`);
    if (ctime !== undefined) info.ctime = ctime;
    return info;
  };

  const peek = (k: string): PeekInfo | undefined => {
    const v = one(k);
    if (v === undefined) return undefined;
    const [exists, state, master] = v.split(' ');
    const p: PeekInfo = { exists: exists === '1', nginxMaster: master === '1' };
    if (exists === '1' && state !== undefined && state !== '-') p.state = state;
    return p;
  };

  const binaryPath = str('binary.path_s') ?? '';
  const binary: BinaryInfo = {
    path: binaryPath,
    exists: flag('binary.exists') ?? false,
    dirExists: flag('binary.dir_exists') ?? false,
  };
  const regular = flag('binary.regular');
  if (regular !== undefined) binary.regular = regular;
  const sha = one('binary.sha256');
  if (sha !== undefined) binary.sha256 = sha;
  const mode = one('binary.mode');
  if (mode !== undefined) binary.mode = mode;
  for (const [prop, key] of [['uid', 'binary.uid'], ['gid', 'binary.gid'], ['size', 'binary.size'],
    ['dirFreeBytes', 'binary.dir_free_bytes']] as const) {
    const n = int(one(key));
    if (n !== undefined) binary[prop] = n;
  }
  const devIno = one('binary.devino');
  if (devIno !== undefined) binary.devIno = devIno;
  const dirWritable = flag('binary.dir_writable');
  if (dirWritable !== undefined) binary.dirWritable = dirWritable;

  const masterInfo = (scope: string): MasterInfo | null => {
    const head = raw.procs.find((p) => p.scope === scope);
    if (!head) return null;
    const children = raw.procs.filter((p: RawProc) => p.scope === `${scope}.child`).map(toProcessInfo);
    const base = toProcessInfo(head);
    const f = head.fields;
    const exeRaw = f.get('exe_s');
    const exe = exeRaw === undefined ? undefined : decodeStr(exeRaw);
    const argv0Kind = one(`${scope}.argv0_kind`);
    const m: MasterInfo = {
      ...base,
      isNginxMaster: one(`${scope}.nginx_master`) === '1',
      exeDeleted: exe?.endsWith(' (deleted)') ?? false,
      canSignal: f.get('kill0') === '1',
      argv0Kind: argv0Kind === 'absolute' || argv0Kind === 'relative' || argv0Kind === 'bare' ? argv0Kind : 'unknown',
      execExists: flag(`${scope}.exec_exists`) ?? false,
      execIsBinary: null,
      daemon: { daemonized: 'unknown', rule: '' },
      children,
      workers: children.filter((c) => isLive(c) && c.role !== 'master' && c.role !== 'other').map((c) => c.pid),
    };
    const cwd = f.get('cwd_s');
    if (cwd !== undefined) m.cwd = decodeStr(cwd);
    if (exe !== undefined) m.exe = exe;
    if (f.get('exe_sha256') !== undefined) m.exeSha256 = f.get('exe_sha256')!;
    if (f.get('exe_devino') !== undefined) m.exeDevIno = f.get('exe_devino')!;
    const parent = peek(`${scope}.parent`);
    if (parent) m.parent = parent;
    const leader = peek(`${scope}.sid_leader`);
    if (leader) m.sessionLeader = leader;
    const argv0 = str(`${scope}.argv0_s`);
    if (argv0 !== undefined) m.argv0 = argv0;
    const execPath = str(`${scope}.exec_s`);
    if (execPath !== undefined) m.execPath = execPath;
    const execDevIno = one(`${scope}.exec_devino`);
    if (execDevIno !== undefined) m.execDevIno = execDevIno;
    if (execDevIno !== undefined && binary.devIno !== undefined) m.execIsBinary = execDevIno === binary.devIno;
    else if (m.isNginxMaster && (m.argv0Kind === 'bare' || (m.execPath !== undefined && !m.execExists))) m.execIsBinary = false;
    if (m.isNginxMaster) m.args = parseMasterTitle(base.title, argv0);
    // A child titled as a master is the new binary only once it has exec'd: a
    // worker just forked (not yet retitled) carries the master's title too, but
    // still has PF_FORKNOEXEC.
    const newMaster = children.find((c) => isLive(c) && c.role === 'master' && c.flags !== undefined && (c.flags & PF_FORKNOEXEC) === 0);
    if (newMaster) m.newMasterChild = newMaster.pid;
    // nginx execs in a child only for USR2 (ngx_exec_new_binary); workers and
    // cache processes are forked without exec. So a live child that has exec'd,
    // whatever its title, is provably the process USR2 started.
    const execd = children.find((c) => isLive(c) && c.flags !== undefined && (c.flags & PF_FORKNOEXEC) === 0);
    if (execd) m.usr2Child = execd.pid;
    m.daemon = daemonRule(m);
    return m;
  };

  const tailHex = one('errorlog.tail_hex');
  const tail = tailHex ? hexToString(tailHex).split('\n') : [];
  if (tail.length > 0 && tail[tail.length - 1] === '') tail.pop();
  const errorLog: ErrorLogInfo = {
    path: str('errorlog.path_s') ?? '',
    exists: flag('errorlog.exists') ?? false,
    tail,
  };
  const size = int(one('errorlog.size'));
  if (size !== undefined) errorLog.size = size;

  const uid = int(one('uid'));
  if (uid === undefined) throw new ScriptOutputError('facts output has no uid', stdout);

  const pidFile = pidFileInfo('pidfile');
  const oldbinFile = pidFileInfo('oldbin');
  const master = pidFile.pid === undefined ? null : masterInfo('master');
  const oldMaster = oldbinFile.pid === undefined ? null : masterInfo('oldmaster');
  const upgradeInProgress =
    oldbinFile.state !== 'absent' ||
    master?.newMasterChild !== undefined ||
    (master?.parent?.nginxMaster === true && master.parent.state !== 'Z');

  const facts: HostFacts = { uid, pidFile, oldbinFile, master, oldMaster, binary, errorLog, upgradeInProgress, blockers: [] };
  facts.blockers = blockersOf(facts);
  return facts;
}

const OPTION_WORD = /^-[?hvVtTqpcges]/;

/**
 * Recover a master's arguments from its title. nginx sets the title to
 * `nginx: master process ` + its argv joined by single spaces, so the original
 * boundaries are lost: argv[0] comes from the script (which tries space-separated
 * prefixes against the file system); an option value runs until the next word
 * that looks like an option (`-g "daemon off; worker_processes 2;"` comes back
 * whole). Parsing follows ngx_get_options: `-p X` or `-pX`, same for c, g, e, s.
 */
export function parseMasterTitle(title: string, argv0?: string): MasterArgs {
  const PREFIX = 'nginx: master process';
  let rest = title.startsWith(PREFIX) ? title.slice(PREFIX.length) : title;
  if (rest.startsWith(' ')) rest = rest.slice(1);
  let a0: string;
  let after: string;
  if (argv0 !== undefined && argv0 !== '' && (rest === argv0 || rest.startsWith(argv0 + ' '))) {
    a0 = argv0;
    after = rest.slice(argv0.length + 1);
  } else {
    const sp = rest.indexOf(' ');
    a0 = sp < 0 ? rest : rest.slice(0, sp);
    after = sp < 0 ? '' : rest.slice(sp + 1);
  }
  const words = after === '' ? [] : after.split(' ');
  const out: MasterArgs = { argv0: a0, words, ambiguous: false };
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (!w.startsWith('-') || w.length < 2) continue;
    const opt = w[1]!;
    if (!'pcges'.includes(opt)) continue;
    const parts: string[] = [];
    if (w.length > 2) parts.push(w.slice(2));
    else {
      while (i + 1 < words.length && !(parts.length > 0 && OPTION_WORD.test(words[i + 1]!))) {
        parts.push(words[++i]!);
      }
    }
    if (parts.length > 1) out.ambiguous = true;
    const value = parts.join(' ');
    if (opt === 'p') out.prefix = value;
    else if (opt === 'c') out.conf = value;
    else if (opt === 'g') out.globals = value;
  }
  return out;
}

/**
 * Is this master daemonized, in nginx's sense? It matters twice: WINCH is
 * ignored unless `ngx_daemonized`, and USR2 is ignored while getppid() still
 * equals the parent nginx started under. /proc/PID/environ cannot tell (nginx's
 * setproctitle overwrites the environment area with the title and NUL padding),
 * and ppid/sid alone cannot either (systemd starts a `daemon off` nginx with
 * ppid 1 and setsid, exactly like a daemonized one). The decisive fact is the
 * kernel's PF_FORKNOEXEC task flag (field 9 of /proc/PID/stat): ngx_daemon()
 * forks and the child becomes the master without exec'ing, so a daemonized
 * original master has it; a `daemon off` master IS the exec'd process and does not.
 * A master started by USR2 (exec'd, no flag) is daemonized by nginx's rules
 * (inherited sockets), and keeps the session of the first, daemonized master.
 *
 * Rules, first match wins:
 *  1. flags has PF_FORKNOEXEC -> yes (forked by ngx_daemon, then setsid)
 *  2. the parent is a live nginx master -> yes (new binary of an upgrade in progress)
 *  3. `-g` on the command line says `daemon off` -> no
 *  4. sid == pid -> no (a session leader that never forked: a supervisor ran
 *     setsid for it: systemd, docker, setsid(1))
 *  5. the session leader is gone, a zombie, or an nginx master -> yes (exec'd by
 *     an earlier upgrade; the first master, whose session it kept, has exited)
 *  6. otherwise -> no (it lives in the session of a live non-nginx process:
 *     a shell, supervisord: `daemon off` under that process)
 * Known miss: a `daemon off` nginx whose session leader has exited (nohup from
 * a shell that logged out) reads as "yes"; WINCH then does nothing and the
 * old-workers-exited wait times out, which triggers the rollback.
 */
export function daemonRule(m: MasterInfo): DaemonInfo {
  if (!m.exists || m.zombie || m.flags === undefined || m.sid === undefined) {
    return { daemonized: 'unknown', rule: 'no live process to look at' };
  }
  if (!m.isNginxMaster) return { daemonized: 'unknown', rule: 'not an nginx master' };
  if ((m.flags & PF_FORKNOEXEC) !== 0) {
    return { daemonized: 'yes', rule: 'forked without exec (PF_FORKNOEXEC): nginx daemonized itself' };
  }
  if (m.parent?.exists && m.parent.nginxMaster && m.parent.state !== 'Z') {
    return { daemonized: 'yes', rule: `new binary started by USR2 of master ${m.ppid}` };
  }
  if (m.args?.globals !== undefined && /(^|;)\s*daemon\s+off\s*;/.test(m.args.globals)) {
    return { daemonized: 'no', rule: 'started with -g "daemon off;"' };
  }
  if (m.sid === m.pid) {
    return { daemonized: 'no', rule: 'exec\'d session leader: a supervisor (systemd, docker, setsid) runs it with daemon off' };
  }
  const leader = m.sessionLeader;
  if (leader && (!leader.exists || leader.state === 'Z' || leader.nginxMaster)) {
    return { daemonized: 'yes', rule: `started by an earlier upgrade (session leader ${m.sid} ${leader.exists ? (leader.state === 'Z' ? 'is a zombie' : 'is an nginx master') : 'has exited'})` };
  }
  if (!leader) return { daemonized: 'unknown', rule: 'session leader not reported' };
  return { daemonized: 'no', rule: `runs under live process ${m.sid} (its session leader): daemon off under a shell or supervisor` };
}

function blockersOf(f: HostFacts): string[] {
  const b: string[] = [];
  const pf = f.pidFile;
  if (pf.state === 'absent') b.push(`pid file ${pf.path} does not exist: nginx is not running (or uses another pid path)`);
  else if (pf.state === 'empty') b.push(`pid file ${pf.path} is empty`);
  else if (pf.state === 'unreadable') b.push(`pid file ${pf.path} is not readable as uid ${f.uid}`);
  else if (pf.pid === undefined) b.push(`pid file ${pf.path} does not hold a pid`);
  const m = f.master;
  if (m) {
    if (!m.exists) b.push(`stale pid file: process ${m.pid} does not exist`);
    else if (m.zombie) b.push(`process ${m.pid} from the pid file has exited (zombie)`);
    else if (!m.isNginxMaster) b.push(`stale pid file: process ${m.pid} is not an nginx master (${m.title.slice(0, 80)})`);
    else {
      if (!m.canSignal) b.push(`uid ${f.uid} may not signal master ${m.pid}`);
      if (m.argv0Kind === 'bare') b.push(`master was started as "${m.argv0}" (no slash): USR2 execs argv[0] without a PATH search and would fail`);
      else if (m.argv0Kind === 'unknown' || m.execPath === undefined) b.push(`cannot resolve the master's argv[0] (${m.argv0 ?? '?'}) to a file`);
      else if (!m.execExists) b.push(`the master's argv[0] resolves to ${m.execPath}, which does not exist`);
      else if (m.execIsBinary === false) b.push(`the master's argv[0] resolves to ${m.execPath}, not the same file as ${f.binary.path}: replacing the binary would not change what USR2 runs`);
      if (m.daemon.daemonized === 'no') b.push(`nginx is not daemonized (${m.daemon.rule}): WINCH is ignored and USR2 refused`);
      else if (m.daemon.daemonized === 'unknown') b.push(`cannot tell whether nginx is daemonized (${m.daemon.rule})`);
    }
  }
  if (f.upgradeInProgress) {
    b.push(`an upgrade is in progress (${f.oldbinFile.state !== 'absent' ? `${f.oldbinFile.path} exists` : 'a second master runs'}): USR2 would be ignored`);
  }
  if (!f.binary.exists) b.push(`binary ${f.binary.path} does not exist`);
  else if (f.binary.regular === false) b.push(`binary ${f.binary.path} is not a regular file`);
  if (!f.binary.dirExists) b.push(`directory of ${f.binary.path} does not exist`);
  else if (f.binary.dirWritable === false) b.push(`directory of ${f.binary.path} is not writable as uid ${f.uid}`);
  return b;
}
