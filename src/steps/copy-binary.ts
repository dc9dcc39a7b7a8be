// copy-binary: upload beside the old binary, check it, rename it into place.
import { basename, dirname } from 'node:path';
import type { CopyBinaryStep } from '../playbook/schema.js';
import { short, type HostRun, type RunContext } from '../run/host-run.js';
import { Refusal, StepFailure } from '../errors.js';
import type { JournalEntry } from '../run/journal.js';
import type { LocalBinary } from '../run/local-binary.js';
import type { Upload } from '../run/types.js';
import { DISK_MARGIN } from '../run/preflight.js';
import type { Transport } from '../transport/transport.js';
import { checkArgs, checkStaged, RemoteError, removeFile, renameInto, type ConfigTest } from './file-ops.js';
import { execOk } from '../remote/run.js';
import { change, check, type StepGen } from '../run/action.js';
import { compareBuilds, parseNginxV } from './build-compat.js';
import { classifyConfigTest, needsMasterCwd } from './config-test.js';
import { discardStagedModules, renameModules, stageModules } from './modules.js';
import { addDiversion, divertable, divertedName, ownerOf } from './package.js';

export function* copyBinary(run: HostRun, spec: CopyBinaryStep): StepGen {
  const { state } = run;
  const local = run.ctx.binaries.get(spec.src);
  if (!local) throw new StepFailure(`no hashed build for ${spec.src}`);
  // Staged beside the target, so the final rename is atomic. A plan stages it
  // in a private temp dir outside the nginx tree instead (for the checks;
  // removed when the host's run ends) and withholds the rename.
  const beside = stagedPath(dirname(state.target), state.target, run.ctx.runId);
  const what = `upload ${local.path} (${local.sha256 ? `sha256 ${local.sha256}` : 'sha256 unknown: the file is not on this machine'})${local.sha256 ? `, ${local.size} bytes,` : ''} to`;
  const staged: string = yield check<string>({
    description: `${what} ${beside}`,
    command: { script: 'SFTP put', args: [beside] },
    planned: beside,
    run: async (t) => {
      if (run.upload && state.staged === beside) await run.upload.done;
      else {
        state.staged = beside;
        await t.put(local.bytes, beside);
      }
      return beside;
    },
    inPlan: {
      kind: 'check',
      description: `${what} /tmp/hotswap-plan.XXXXXX/${basename(beside)} (a private temp dir outside the nginx tree, removed after the checks)`,
      command: { script: 'mktemp -d /tmp/hotswap-plan.XXXXXX; SFTP put', args: [basename(beside)] },
      run: async (t) => {
        const dir = (await execOk(t, ['mktemp', '-d', '/tmp/hotswap-plan.XXXXXX'])).trim();
        run.scratch.push(dir);
        const path = stagedPath(dir, state.target, run.ctx.runId);
        await t.put(local.bytes, path);
        return path;
      },
    },
  });
  // beside the target it takes the target's owner and mode; a private copy elsewhere does not
  const ownerFrom = staged === beside ? state.target : null;
  const m = run.facts.master;
  const test = configTest(run, spec);
  let out: string;
  try {
    out = yield check<string>({
      description: `check its sha256${ownerFrom ? ', give it the owner and mode of ' + ownerFrom : ''}${m ? `, compare nginx -V with the running build's (pid ${m.pid})` : ''}${test ? `, and run it with -t ${test.args.join(' ')}` : !m && spec.test_config !== false && !spec.modules?.length ? ", and run it with -t and the running master's -p/-c/-g (read on the host)" : ''}`,
      command: { script: 'src/remote/check-staged.sh', args: checkArgs(staged, local.sha256, ownerFrom, m ? `/proc/${m.pid}/exe` : null, test) },
      run: (t) => (run.upload?.checked && run.upload.staged === staged ? run.upload.checked : checkStaged(t, staged, local.sha256, ownerFrom, m ? `/proc/${m.pid}/exe` : null, test)),
    });
  } catch (err) {
    if (err instanceof RemoteError && err.code === 12) throw new Refusal(classifyConfigTest(err.message).message);
    if (err instanceof RemoteError && err.code === 13) throw new Refusal(`cannot run nginx -t where the running master runs: ${err.message} (its working directory: the master's -p ${m?.args?.prefix ?? ''} is relative to it)`);
    if (err instanceof RemoteError && err.code === 14) throw new Refusal(`the new build cannot be run on this host: ${err.message}`);
    if (err instanceof RemoteError && err.code === 10) throw new Refusal(err.message);
    if (err instanceof RemoteError) throw new StepFailure(err.message);
    throw err;
  }
  checkCompat(run, out);
  // modules: staged, checked, tested with the new build, backed up (nothing live touched yet)
  const modules = yield* stageModules(run, spec, staged);
  yield* divert(run, [state.target, ...modules.map((x) => x.real)]);
  yield* renameModules(run, modules);
  yield change({
    description: `rename ${staged} over ${state.target} (sha256 ${short(state.oldSha)} -> ${short(local.sha256)})`,
    command: { script: 'src/remote/rename.sh', args: [staged, state.target] },
    phase: 'replaced',
    run: async (t) => {
      await renameInto(t, staged, state.target);
      state.staged = undefined;
    },
  });
  return `${state.target} is now sha256 ${short(local.sha256)}${modules.length ? `, with ${modules.length} module${modules.length > 1 ? 's' : ''}: ${modules.map((x) => x.real).join(', ')}` : ''}`;
}

// nginx.package: divert: each package-owned file gets a local diversion before
// anything is renamed over it (the package's file copied to PATH.distrib), so
// the next package upgrade leaves hotswap's build in place. From here on the
// host has changed: phase `replaced`, the rollback removes the diversions.
function* divert(run: HostRun, paths: string[]): StepGen {
  if (run.host.package !== 'divert') return '';
  for (const path of paths) {
    const owner = yield* ownerOf(run, path);
    if (!divertable(run, owner)) continue;
    (run.state.diverted ??= []).push(path);
    yield change({
      description: `divert ${path} from package ${owner.packages.join(', ')}: copy it to ${divertedName(path)} (the package's file), then dpkg-divert --local --no-rename --divert ${divertedName(path)} --add ${path}`,
      command: { script: 'cp -p; mv -f; dpkg-divert --add', args: [path, divertedName(path)] },
      phase: 'replaced',
      run: (t) => addDiversion(t, path, path),
    });
  }
  return '';
}

// `nginx -V` of both builds (printed by the staged check); differences become warnings or a refusal.
function checkCompat(run: HostRun, out: string): void {
  const m = run.facts.master;
  const section = (name: string) => new RegExp(`--- ${name} -V\\n([\\s\\S]*?)\\n--- `).exec(out)?.[1];
  const next = section('new');
  const running = section('running');
  if (!m || next === undefined || running === undefined) return;
  const { refusals, warnings } = compareBuilds(parseNginxV(running), parseNginxV(next), m.args ?? {});
  for (const w of warnings) run.warn(w);
  if (refusals.length) throw new Refusal(refusals.join('; '));
}

/** The staged build's sha256, owner and mode, `-V` beside the running build's, and `-t` with the master's arguments. */
// (an upload started before copy-binary is always beside the target)
function checkBuild(run: HostRun, spec: CopyBinaryStep, local: LocalBinary, staged: string): Promise<string> {
  const m = run.facts.master;
  return checkStaged(run.t, staged, local.sha256, run.state.target, m ? `/proc/${m.pid}/exe` : null, configTest(run, spec));
}

function configTest(run: HostRun, spec: CopyBinaryStep): ConfigTest | null {
  const m = run.facts.master;
  // with modules, the new build is tested against a config loading the new modules (steps/modules.ts)
  if (spec.test_config === false || !m?.args || spec.modules?.length) return null;
  // nginx resolves only a relative -p from its working directory; else test from "/" (as systemd starts it)
  return { cwd: needsMasterCwd(m.args) ? m.cwd ?? '/' : '/', args: configArgs(m.args) };
}

/** The running master's -p/-c/-g, for `nginx -t` against the config it runs. */
function configArgs(a: { prefix?: string; conf?: string; globals?: string }): string[] {
  return [...(a.prefix ? ['-p', a.prefix] : []), ...(a.conf ? ['-c', a.conf] : []), ...(a.globals ? ['-g', a.globals] : [])];
}

const stagedPath = (dir: string, target: string, runId: string) => `${dir}/.${basename(target)}.hotswap-${runId}`;

export type { Upload } from '../run/types.js';

function beginUpload(t: Transport, local: LocalBinary, staged: string, abort: AbortSignal | undefined): Upload {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  if (abort?.aborted) stop.abort(); // interrupted already: the put stops at once
  abort?.addEventListener('abort', onAbort, { once: true });
  const done = t.put(local.bytes, staged, { signal: stop.signal });
  done.catch(() => undefined).finally(() => abort?.removeEventListener('abort', onAbort)); // copy-binary reports a failure
  return { staged, done, stop };
}

/** Stops an upload and removes what it wrote. */
export async function dropUpload(t: Transport, u: Upload): Promise<void> {
  u.stop.abort();
  await u.done.catch(() => undefined);
  await removeFile(t, u.staged);
}

/**
 * An apply sends the new build (`local`, copy-binary's) while the host's facts
 * are read, on the connection's SFTP session beside the shell: nothing waits
 * for it until copy-binary. It goes beside `target`, the configured binary,
 * once the lock is held,
 * and only when statvfs shows room for it twice over (it and a backup of
 * about its size) and the margin pre-flight keeps, and when the host's
 * journal does not say its last run left it on this very build (a re-run
 * then sends nothing). Else (no statvfs, little room, sudo) the upload
 * starts after pre-flight, as startUpload. The host's pre-flight still
 * decides: a refused or skipped host has the file removed (see runHost).
 */
export async function uploadEarly(t: Transport, ctx: RunContext, target: string, local: LocalBinary | undefined, locked: Promise<{ journal: JournalEntry[] }>): Promise<Upload | undefined> {
  if (!local || !t.freeBytes) return undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    // an SFTP session that never opens must not hold the host up: then pre-flight decides
    const free = Promise.race([t.freeBytes(dirname(target)), new Promise<undefined>((r) => { timer = setTimeout(() => r(undefined), 2_000); })]);
    const { journal } = await locked;
    const room = await free;
    const last = [...journal].reverse().find((e) => e.event === 'end');
    if (last && (last.result === 'changed' || last.result === 'ok') && last.state.newSha === local.sha256) return undefined;
    if (room === undefined || room < 2 * local.size + DISK_MARGIN || ctx.stopping?.()) return undefined;
    return beginUpload(t, local, stagedPath(dirname(target), target, ctx.runId), ctx.abort);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Once the host passed pre-flight: the upload started early when it goes to
 * the staged name of the binary the master really runs, else a new one
 * (dropping the early one), so that it overlaps the steps before copy-binary
 * (the backup); copy-binary then only waits for it. Nothing live is touched:
 * the staged file is a new name, renamed into place by copy-binary alone.
 */
export async function startUpload(run: HostRun, spec: CopyBinaryStep, early: Upload | undefined): Promise<void> {
  const local = run.ctx.binaries.get(spec.src);
  if (!local || run.upload) return;
  const staged = stagedPath(dirname(run.state.target), run.state.target, run.ctx.runId);
  if (early && early.staged !== staged) await dropUpload(run.t, early);
  run.state.staged = staged;
  const upload = (run.upload = early?.staged === staged ? early : beginUpload(run.t, local, staged, run.ctx.abort));
  // Checked as soon as it is sent, on a shell of its own beside the steps
  // before copy-binary (the backup): it only reads, and touches nothing but
  // the staged file. copy-binary takes its result.
  upload.checked = upload.done.then(() => checkBuild(run, spec, local, staged));
  upload.checked.catch(() => undefined); // copy-binary reports it; a host that stops before has it removed
}

/** Removes the staged build unless it was renamed into place (an upload still under way is stopped first). */
export async function discardStaged(run: HostRun): Promise<void> {
  await discardStagedModules(run);
  run.upload?.stop.abort();
  await run.upload?.done.catch(() => undefined);
  if (run.state.staged) await removeFile(run.t, run.state.staged).catch(() => undefined);
  run.state.staged = undefined;
}
