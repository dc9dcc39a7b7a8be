// Package ownership of the files hotswap replaces, read on the host with the
// package manager's own query tools (plain argv, no shell), and what follows
// from it: where backups go, the diversion that keeps hotswap's build, the
// pruning of old backups. The parsing and the decisions are in
// src/nginx/package-owner.ts (pure).
import { basename } from 'node:path';
import type { BackupStep } from '../playbook/schema.js';
import type { HostRun } from '../run/host-run.js';
import { check } from '../run/action.js';
import type { ExecResult, Transport } from '../transport/transport.js';
import { RemoteError } from './file-ops.js';
import {
  backupPlace, divertCommands, divertedName, dpkgQueryArgv, dpkgSearchArgv, parseDpkgQuery, parseDpkgSearch, parseRpmQuery,
  pruneSet, rpmQueryArgv, type BackupPlace, type Ownership,
} from '../nginx/package-owner.js';

/** Runs argv on the host; a non-zero exit is a RemoteError with the command's own words. */
export async function must(t: Transport, argv: readonly string[], timeoutMs = 60_000): Promise<string> {
  const r = await t.exec(argv, { timeoutMs });
  if (r.code !== 0) throw new RemoteError(`${argv[0]}: ${(r.stderr.trim() || r.stdout.trim() || `exit code ${r.code}`).split('\n').slice(-3).join('; ')}`, r.code);
  return r.stdout;
}

// 127: not installed (a shell over SSH and the local transport say the same)
const missing = (r: ExecResult) => r.code === 127 || r.code === 126;

// Debian Policy (9.1.2) keeps packages out of /usr/local, and no package
// installs into /tmp, /var/tmp, /home, /root or /srv: dpkg -S, which reads its
// whole database (about 0.1 s of a host's CPU, on every host of a fleet), is
// not asked about a binary there.
const NEVER_PACKAGED = /^\/(usr\/local|tmp|var\/tmp|home|root|srv)\//;

/**
 * Who owns `path`: dpkg where it is installed, else rpm, else nobody. A query
 * tool that fails for another reason (a locked database) is an error: the
 * plan must not say "not owned" when it could not tell.
 */
export async function readOwnership(t: Transport, path: string): Promise<Ownership | null> {
  if (NEVER_PACKAGED.test(path)) return null;
  const d = await t.exec(dpkgSearchArgv(path), { timeoutMs: 30_000 });
  if (!missing(d)) {
    // exit 1 with "no path found matching pattern": no package has it
    if (d.code !== 0 && !/no path found/.test(d.stderr)) throw new RemoteError(`dpkg -S ${path}: ${d.stderr.trim() || `exit code ${d.code}`}`, d.code);
    const o = parseDpkgSearch(path, d);
    if (!o || o.packages.length === 0) return o;
    const q = await t.exec(dpkgQueryArgv(o.packages.map((p) => p.replace(/:[a-z0-9]+$/, ''))), { timeoutMs: 30_000 });
    const version = parseDpkgQuery(q.stdout).get(o.packages[0]!.replace(/:[a-z0-9]+$/, ''));
    return version ? { ...o, version } : o;
  }
  const r = await t.exec(rpmQueryArgv(path), { timeoutMs: 30_000 });
  if (missing(r)) return null;
  return parseRpmQuery(path, r);
}

// Read once per file per run (the backup step and copy-binary both need it).
const owners = new WeakMap<object, Map<string, Ownership | null>>();

/** Who owns `path`, as a check the plan performs too; asked of the host once per run. */
export function* ownerOf(run: Pick<HostRun, 'state'>, path: string): Generator<any, Ownership | null, any> {
  let known = owners.get(run.state);
  if (!known) owners.set(run.state, (known = new Map()));
  if (known.has(path)) return known.get(path)!;
  const o: Ownership | null = yield check<Ownership | null>({
    description: `read which package owns ${path}: dpkg -S (rpm -qf where dpkg is missing)`,
    command: { script: 'dpkg -S', args: ['--', path] },
    planned: null,
    run: (t) => readOwnership(t, path),
  });
  // only an answer of the query's shape counts (a withheld check hands back null)
  const owner = o && typeof o === 'object' && Array.isArray(o.packages) ? o : null;
  known.set(path, owner);
  return owner;
}

/** Where the backup of `file` goes: backup.dest, backup.dir, /var/backups/hotswap for a package's file, else beside it. */
export function placeBackup(file: string, owned: boolean, stamp: string, spec: Pick<BackupStep, 'dest' | 'dir'> = {}): BackupPlace {
  return backupPlace({ file, owned: owned || spec.dir !== undefined, stamp, dest: spec.dest, root: spec.dir?.replace(/\/+$/, '') });
}

/** The backup step of the host's steps (copy-binary's modules follow its dir and keep). */
export function backupSpec(run: Pick<HostRun, 'host'>): BackupStep {
  return run.host.steps.find((s) => s.backup)?.backup ?? {};
}

/** A file whose package the run diverts (nginx.package: divert, dpkg, not diverted yet). */
export function divertable(run: Pick<HostRun, 'host'>, o: Ownership | null): o is Ownership {
  return run.host.package === 'divert' && o?.manager === 'dpkg' && o.packages.length > 0 && !o.diversion;
}

/** Adds a local diversion of `path`; the package's own file (the file before hotswap replaces it) goes to PATH.distrib. */
export async function addDiversion(t: Transport, path: string, packageCopy: string): Promise<void> {
  for (const argv of divertCommands({ path, packageCopy }).add) await must(t, argv);
}

/**
 * Removes a diversion this run added, after the old file was restored: dpkg
 * forgets it, and PATH.distrib (the copy the run made) goes. PATH itself holds
 * the restored build, which is the package's own when the run started from it.
 */
export async function removeDiversion(t: Transport, path: string): Promise<void> {
  await must(t, ['dpkg-divert', '--local', '--no-rename', '--remove', path]);
  await must(t, ['rm', '-f', '--', divertedName(path)]);
}

/** Removes hotswap's backups of `base` in `dir` beyond the newest `keep`, never `protect`; returns the removed paths. */
export async function pruneBackups(t: Transport, dir: string, base: string, keep: number, protect: string[]): Promise<string[]> {
  const r = await t.exec(['find', dir, '-maxdepth', '1', '-type', 'f', '-name', `${base}.*.bak`], { timeoutMs: 30_000 });
  if (r.code !== 0) return [];
  const names = r.stdout.split('\n').filter(Boolean).map((p) => basename(p));
  const gone = pruneSet(names, base, keep, protect.map((p) => basename(p))).map((n) => `${dir}/${n}`);
  if (gone.length) await must(t, ['rm', '-f', '--', ...gone]);
  return gone;
}

export { divertedName };
