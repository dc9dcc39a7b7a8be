// The journal on each host (beside the nginx logs): one JSON line per phase,
// written BEFORE each action, so a crash at any instant leaves on the host
// the truth of what was running, the backup, the new build and the pids.
// `status` and `rollback` read it back.
import { dirname } from 'node:path';
import type { NginxPaths } from '../playbook/resolved.js';
import type { Command, Transport } from '../transport/transport.js';
import { decodeStr, parseLines } from '../nginx/format.js';
import { runScriptOk, scriptCommand } from '../remote/run.js';
import type { Phase, UpgradeState } from './types.js';

export interface JournalEntry {
  ts: string;
  run: string;
  host: string;
  event: 'start' | 'action' | 'end';
  phase: Phase;
  state: Pick<UpgradeState, 'oldPid' | 'newPid' | 'target' | 'oldSha' | 'newSha' | 'backup' | 'systemd' | 'modules' | 'diverted'>;
  action?: string;
  /** on `end`: the host's result */
  result?: string;
}

export function journalPath(nginx: NginxPaths): string {
  return `${dirname(nginx.error_log)}/hotswap.journal`;
}

/** The journal line for an entry, stamped now. */
export function journalLine(entry: Omit<JournalEntry, 'ts'>): string {
  return JSON.stringify({ ts: new Date().toISOString(), ...entry });
}

export async function appendJournal(t: Transport, nginx: NginxPaths, entry: Omit<JournalEntry, 'ts'>): Promise<void> {
  await runScriptOk(t, 'journal-append', [journalPath(nginx), journalLine(entry)]);
}

export async function readJournal(t: Transport, nginx: NginxPaths): Promise<JournalEntry[]> {
  return journalIn(await runScriptOk(t, 'journal-read', [journalPath(nginx)]), 'journal');
}

/** src/remote/journal-read.sh, to run in a sequence (within a minute, as runScriptOk); read its result with journalIn(okStdout(r), 'journal'). */
export function readJournalCommand(nginx: NginxPaths): Command {
  return scriptCommand('journal-read', [journalPath(nginx)], { timeoutMs: 60_000 });
}

/** The journal's tail in a script's output (`journal_s` lines: src/remote/lib/journal.sh). */
export function journalIn(out: string, kind: string): JournalEntry[] {
  return parseJournal((parseLines(out, kind).values.get('journal_s') ?? []).map(decodeStr).join('\n'));
}

export function parseJournal(text: string): JournalEntry[] {
  const entries: JournalEntry[] = [];
  for (const line of text.split('\n')) {
    try {
      const e = JSON.parse(line) as JournalEntry;
      if (e && typeof e.run === 'string' && typeof e.event === 'string') entries.push(e);
    } catch {
      // a torn last line (a crash mid-write) is skipped
    }
  }
  return entries;
}

export interface LastRun {
  run: string;
  started: string;
  /** the last entry written: what was about to happen, or the end */
  last: JournalEntry;
  /** the run recorded its end */
  finished: boolean;
  /** the state to roll back to (from the run's entries) */
  state: JournalEntry['state'];
}

/** The most recent run in the journal, and whether it ended or was cut off. */
export function lastRun(entries: JournalEntry[]): LastRun | undefined {
  const last = entries[entries.length - 1];
  if (!last) return undefined;
  const mine = entries.filter((e) => e.run === last.run);
  const state = mine.reduce<JournalEntry['state']>((s, e) => ({ ...s, ...Object.fromEntries(Object.entries(e.state).filter(([, v]) => v !== undefined)) }), mine[0].state);
  return { run: last.run, started: mine[0].ts, last, finished: last.event === 'end', state };
}

/** The last run that changed the host and left a backup: what `rollback` goes back to. */
export function lastUpgrade(entries: JournalEntry[]): LastRun | undefined {
  const runs = [...new Set(entries.map((e) => e.run))].reverse();
  for (const run of runs) {
    const r = lastRun(entries.filter((e) => e.run === run));
    if (r?.state.backup && entries.some((e) => e.run === run && e.phase !== 'clean')) return r;
  }
  return undefined;
}
