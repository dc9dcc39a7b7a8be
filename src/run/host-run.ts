// One host's run: its transport, the facts read at the start, how far the
// upgrade got, and every action taken. Dry run and apply share this object:
// reads always run, changes run only when applying, and both are recorded,
// so a plan lists exactly the actions an apply would take.
import type { ResolvedHost } from '../playbook/resolved.js';
import type { HostFacts } from '../nginx/facts.js';
import type { Transport } from '../transport/transport.js';
import type { Events } from './events.js';
import type { LocalBinary } from './local-binary.js';

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
  /** error log size when USR2 was sent: only later lines tell about this upgrade */
  errorLogSize: number;
  pidFileCtime?: string;
}

export interface Action {
  step: number;
  description: string;
  /** false for checks and waits that only read */
  changes: boolean;
  /** a dry run did not carry it out */
  withheld: boolean;
}

export interface RunContext {
  dryRun: boolean;
  events: Events;
  /** names temp files and the journal of this run */
  runId: string;
  /** UTC timestamp for backup names, e.g. 20261121T120000Z */
  stamp: string;
  /** the new build per copy-binary src, hashed before any host is contacted */
  binaries: Map<string, LocalBinary>;
}

export class HostRun {
  readonly actions: Action[] = [];
  step = -1;

  constructor(
    readonly host: ResolvedHost,
    readonly t: Transport,
    readonly ctx: RunContext,
    readonly facts: HostFacts,
    readonly state: UpgradeState,
  ) {}

  get dryRun(): boolean {
    return this.ctx.dryRun;
  }

  /**
   * Does something to the host, or in a dry run records it and returns
   * `simulated` instead. `changes: false` marks waits and checks that only
   * make sense once the earlier changes happened.
   */
  async act<T>(description: string, apply: () => Promise<T>, simulated: T, changes = true): Promise<T> {
    const withheld = this.ctx.dryRun;
    this.actions.push({ step: this.step, description, changes, withheld });
    this.ctx.events.emit({ type: 'action', host: this.host.name, step: this.step, description, changes, withheld });
    return withheld ? simulated : apply();
  }

  warn(message: string): void {
    this.ctx.events.emit({ type: 'warning', host: this.host.name, step: this.step, message });
  }

  /** A read the dry run performs too (facts, checks against the current state). */
  async check<T>(description: string, read: () => Promise<T>): Promise<T> {
    this.actions.push({ step: this.step, description, changes: false, withheld: false });
    this.ctx.events.emit({ type: 'action', host: this.host.name, step: this.step, description, changes: false, withheld: false });
    return read();
  }
}

/** A step could not do its job; the message says why, for the operator. */
export class StepFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StepFailure';
  }
}

/** A check found the host must not be upgraded, before anything changed on it. */
export class Refusal extends StepFailure {
  constructor(message: string) {
    super(message);
    this.name = 'Refusal';
  }
}

export const short = (sha: string | undefined) => (sha ? sha.slice(0, 12) : '?');
