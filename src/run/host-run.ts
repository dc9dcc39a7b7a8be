// One host's run: its transport, the facts read at the start, how far the
// upgrade got, and every action taken (the executor, executor.ts, performs
// them). A plan and an apply share this object, so a plan lists exactly the
// actions an apply would take.
import type { ResolvedHost } from '../playbook/resolved.js';
import type { HostFacts } from '../nginx/facts.js';
import type { WaitResult } from '../nginx/wait.js';
import type { Transport } from '../transport/transport.js';
import type { Events } from './events.js';
import { appendJournal, journalLine, journalPath, type JournalEntry } from './journal.js';
import { JournaledTransport } from './journaled.js';
import { gatherFacts } from '../nginx/facts.js';
import type { LocalBinary } from './local-binary.js';
import { modeOf, type Mode, type UpgradeState, type Upload } from './types.js';

export type { ModuleSwap, Phase, UpgradeState } from './types.js';

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
  /** plan --offline: no host is contacted (see src/plan/offline.ts) */
  offline?: boolean;
  /** apply or rollback: recorded in locks */
  command: string;
  /** the playbook, for the recovery commands printed to the operator */
  playbookFile?: string;
  /** --break-lock: take a held lock anyway */
  breakLock?: boolean;
  /** true once SIGINT/SIGTERM asked the run to stop */
  stopping?: () => boolean;
  /** aborted by SIGINT/SIGTERM: waits in flight give up at once */
  abort?: AbortSignal;
  /** read the facts again after a host changed (for --report) */
  factsAfter?: boolean;
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
  /** the run holds the host's lock: its closing journal line is written when the lock is released */
  lockHeld = false;
  /** that closing line, once end() produced it */
  closingLine?: string;
  /** the new build's upload to its staged name, once started (see startUpload) */
  upload?: Upload;
  /** private temp dirs a plan staged the build in: removed when the host's run ends */
  readonly scratch: string[] = [];
  /** set once the rollback runs: it must finish whatever interrupt came, so nothing of it is abandoned */
  rollingBack = false;
  /** a wait already written to the host behind its signal (see waitBehind) */
  ahead?: { step: number; result: Promise<WaitResult> };

  private jt: JournaledTransport;
  /** plan or apply: read once from the context (see executor.ts) */
  readonly mode: Mode;

  constructor(
    readonly host: ResolvedHost,
    t: Transport,
    readonly ctx: RunContext,
    readonly facts: HostFacts,
    readonly state: UpgradeState,
  ) {
    this.jt = new JournaledTransport(t);
    this.mode = modeOf(ctx);
  }

  /** the host's transport; replaced when a lost connection is restored */
  get t(): Transport {
    return this.jt;
  }

  set t(next: Transport) {
    this.jt = new JournaledTransport(next);
  }

  /** Records an action and emits it (the executor calls this for every action it performs or withholds). */
  record(description: string, changes: boolean, withheld: boolean): void {
    this.actions.push({ step: this.step, description, changes, withheld });
    this.ctx.events.emit({ type: 'action', host: this.host.name, step: this.step, description, changes, withheld });
  }

  /**
   * Runs a change with its journal line written first, by its first command:
   * a crash during it leaves the truth on the host, and the line costs no
   * round trip of its own.
   */
  async journaled<T>(description: string, apply: () => Promise<T>): Promise<T> {
    const jt = this.jt;
    jt.before(journalPath(this.host.nginx), journalLine(this.entry('action', description)));
    try {
      return await apply();
    } finally {
      jt.drop();
    }
  }

  /** Appends to the host's journal (a plan keeps none). */
  async journal(event: JournalEntry['event'], action?: string, result?: string): Promise<void> {
    if (this.mode === 'plan') return;
    await appendJournal(this.t, this.host.nginx, this.entry(event, action, result));
  }

  private entry(event: JournalEntry['event'], action?: string, result?: string): Omit<JournalEntry, 'ts'> {
    const { oldPid, newPid, target, oldSha, newSha, backup, systemd, modules, diverted } = this.state;
    return { run: this.ctx.runId, host: this.host.name, event, phase: this.state.phase, state: { oldPid, newPid, target, oldSha, newSha, backup, systemd, modules, diverted }, action, result };
  }

  /** Records the host's result in its journal (with the lock's release when one is held), then hands the outcome on. */
  async end<T extends { result: string; message?: string }>(outcome: T): Promise<T> {
    if (this.lockHeld && this.mode === 'apply') this.closingLine = journalLine(this.entry('end', outcome.message, outcome.result));
    else await this.journal('end', outcome.message, outcome.result).catch(() => undefined);
    if (this.ctx.factsAfter && this.state.phase !== 'clean') {
      // the host as the run left it, for the report; on the same connection
      const n = this.host.nginx;
      const started = Date.now();
      await gatherFacts(this.t, { pidFile: n.pid_file, binary: n.binary, errorLog: n.error_log }).then(
        (facts) => this.ctx.events.emit({ type: 'host-facts', host: this.host.name, facts, connectMs: 0, factsMs: Date.now() - started, when: 'after' }),
        () => undefined,
      );
    }
    return outcome;
  }

  warn(message: string): void {
    this.ctx.events.emit({ type: 'warning', host: this.host.name, step: this.step, message });
  }

  /** The run's abort signal while the upgrade goes forward; none once it rolls back. */
  get abort(): AbortSignal | undefined {
    return this.rollingBack ? undefined : this.ctx.abort;
  }
}

export const short = (sha: string | undefined) => (sha ? sha.slice(0, 12) : '?');

/** "the old master (pid N)", or where its pid comes from when it is not known yet (an offline plan). */
export function oldMasterText(run: { state: UpgradeState; host: ResolvedHost }): string {
  return run.state.oldPid ? `the old master (pid ${run.state.oldPid})` : `the old master (pid from ${run.host.nginx.pid_file} before the upgrade)`;
}
