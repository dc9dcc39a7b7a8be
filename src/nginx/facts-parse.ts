// src/remote/facts.sh's output, parsed without touching the host: the facts,
// and the blockers they imply.
import { decodeStr, hexToString, int, parseLines, ScriptOutputError, type RawProc } from './format.js';
import { isLive, PF_FORKNOEXEC, toProcessInfo } from './process.js';
import { daemonRule, parseMasterTitle } from './master-args.js';
import type { BinaryInfo, ErrorLogInfo, HostFacts, MasterInfo, PeekInfo, PidFileInfo } from './facts-types.js';

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
