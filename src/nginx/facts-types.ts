// The facts about a host's nginx, as parseFacts (facts-parse.ts) makes them
// from src/remote/facts.sh's output. See facts.ts for why they are what they are.
import type { ProcessInfo } from './process.js';

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

