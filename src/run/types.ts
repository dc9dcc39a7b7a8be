// The shapes a host's run shares with its steps, the executor and the
// journal: how far the upgrade got, the upload in flight, the mode. Kept
// apart from host-run.ts so that those modules need not import each other.
import type { UnitRef } from './systemd-probe.js';

/** How far the upgrade got: decides the compensation on failure. */
export type Phase = 'clean' | 'replaced' | 'usr2' | 'winch' | 'quit' | 'done';

export interface UpgradeState {
  phase: Phase;
  /** the master serving before the upgrade */
  oldPid: number;
  /** the master started by USR2, once known */
  newPid?: number;
  /** the file USR2 execs (the running master's argv[0], resolved) */
  target: string;
  /** sha256 of the build running before the upgrade */
  oldSha: string;
  /** sha256 the upgraded master must run */
  newSha: string;
  /** the verified copy of the old build */
  backup?: string;
  /** the new build while staged beside the target */
  staged?: string;
  /** module files copy-binary replaces with the binary (backed up first): restored with it */
  modules?: ModuleSwap[];
  /** paths this run diverted with dpkg-divert (nginx.package: divert): a rollback removes the diversions */
  diverted?: string[];
  /** error log size when USR2 was sent: only later lines tell about this upgrade */
  errorLogSize: number;
  pidFileCtime?: string;
  /** the systemd service that runs nginx (read in pre-flight): checked after the old master exits, started by a rollback that finds nginx down */
  systemd?: UnitRef;
  /** a rollback found nginx down and started the unit again (connections were dropped) */
  coldStarted?: boolean;
}

/** A module file replaced with the binary: where its verified backup is. */
export interface ModuleSwap {
  /** the module file renamed over (the real path, symlinks resolved) */
  path: string;
  backup: string;
  /** sha256 of the module before the upgrade (the backup's) */
  oldSha: string;
}

/** The new build on its way to its staged name; stop() leaves a partial file for dropUpload. */
export interface Upload {
  staged: string;
  done: Promise<void>;
  stop: AbortController;
  /** copy-binary's check of it, started once it is sent (see startUpload) */
  checked?: Promise<string>;
}

/** apply: do it; plan: read the hosts, change nothing; offline: no host at all, every action withheld. */
export type Mode = 'plan' | 'apply' | 'offline';

/** The mode of a run (RunContext's flags), read once per host: see executor.ts. */
export function modeOf(ctx: { dryRun: boolean; offline?: boolean }): Mode {
  return ctx.offline ? 'offline' : ctx.dryRun ? 'plan' : 'apply';
}
