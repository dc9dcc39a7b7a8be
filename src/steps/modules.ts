// copy-binary's dynamic modules (`copy-binary.modules`): read which modules
// the running master loads, stage each new module beside the file it
// replaces, check it, test the new build with a copy of the config that loads
// the staged modules, back the old modules up, and rename the new ones into
// place right before the binary. The pairing and the test config are pure
// (src/nginx/modules.ts); this file only yields the actions.
import { basename, dirname } from 'node:path';
import type { CopyBinaryStep } from '../playbook/schema.js';
import { short, type HostRun } from '../run/host-run.js';
import { Refusal, StepFailure } from '../errors.js';
import { change, check, type StepGen } from '../run/action.js';
import type { Transport } from '../transport/transport.js';
import { commandLine } from '../transport/quote.js';
import { checkModules, configuredModules, parseMaps, planModules, stagedTestConfig, type LoadedModule, type MappedObject, type ModuleSpec, type ModuleStep } from '../nginx/modules.js';
import { parseConfigDump, type ConfigFiles } from '../nginx/nginx-conf.js';
import { backupFile, removeFile, renameInto } from './file-ops.js';
import { classifyConfigTest, needsMasterCwd } from './config-test.js';
import { backupSpec, must, ownerOf, placeBackup } from './package.js';

/** What the host said about the running master's modules. */
export interface ModuleFacts {
  files: ConfigFiles;
  conf: string;
  prefix: string;
  configured: LoadedModule[];
  maps: MappedObject[];
  realpaths: Record<string, string>;
}

/** A module ready to be renamed into place. */
export interface StagedModule extends ModuleStep {
  sha256: string;
  oldSha: string;
}

export const moduleSpecs = (spec: CopyBinaryStep): ModuleSpec[] =>
  (spec.modules ?? []).map((m) => (typeof m === 'string' ? { src: m } : { src: m.src, ...(m.dest ? { dest: m.dest } : {}) }));

// staged module files not renamed yet, per run: removed when the run ends without them
const stagedFiles = new WeakMap<object, Set<string>>();
const stagedOf = (run: Pick<HostRun, 'state'>) => {
  let s = stagedFiles.get(run.state);
  if (!s) stagedFiles.set(run.state, (s = new Set()));
  return s;
};

/** Removes staged module files that were never renamed into place. */
export async function discardStagedModules(run: Pick<HostRun, 'state' | 't'>): Promise<void> {
  const s = stagedFiles.get(run.state);
  for (const f of [...(s ?? [])]) {
    await removeFile(run.t, f).catch(() => undefined);
    s!.delete(f);
  }
}

/** The master's -p/-g, and how to run a program where the master resolves a relative -p. */
function masterArgs(run: HostRun): { cwd: string[]; prefix?: string; globals?: string } {
  const a = run.facts.master?.args ?? { argv0: '', words: [], ambiguous: false };
  // plain argv cannot cd: env -C (coreutils 8.28+) only where nginx needs the master's directory
  const cwd = needsMasterCwd(a) ? ['env', '-C', run.facts.master?.cwd ?? '/'] : [];
  return { cwd, prefix: a.prefix, globals: a.globals };
}

/** Reads the running config (nginx -T of the running image), the master's mappings and the real module paths. */
export async function readModuleFacts(t: Transport, run: HostRun): Promise<ModuleFacts> {
  const m = run.facts.master!;
  const exe = `/proc/${m.pid}/exe`;
  const { cwd, prefix, globals } = masterArgs(run);
  const v = await t.exec([exe, '-V'], { timeoutMs: 30_000 });
  const built = /--prefix=(\S+)/.exec(v.stderr)?.[1];
  const args = [...(prefix ? ['-p', prefix] : []), ...(m.args?.conf ? ['-c', m.args.conf] : []), ...(globals ? ['-g', globals] : [])];
  const dump = await t.exec([...cwd, exe, ...args, '-T'], { timeoutMs: 60_000 });
  if (dump.code !== 0) throw new StepFailure(`cannot read the running config with ${exe} -T: ${dump.stderr.trim().split('\n').slice(-3).join('; ')}`);
  const files = parseConfigDump(dump.stdout);
  const conf = [...files.keys()][0];
  if (!conf) throw new StepFailure(`${exe} -T printed no configuration file`);
  const p = prefix ?? built ?? '/usr/local/nginx/';
  const configured = configuredModules(files, conf, p.endsWith('/') ? p : `${p}/`);
  const maps = parseMaps(await must(t, ['cat', '--', `/proc/${m.pid}/maps`]));
  const realpaths: Record<string, string> = {};
  if (configured.length) {
    const out = (await must(t, ['realpath', '-m', '--', ...configured.map((c) => c.path)])).split('\n');
    configured.forEach((c, i) => out[i] && (realpaths[c.path] = out[i]!));
  }
  return { files, conf, prefix: p.endsWith('/') ? p : `${p}/`, configured, maps, realpaths };
}

/**
 * Stages, checks and tests the playbook's modules, and backs up the ones they
 * replace: everything before the first rename. `stagedBinary` is the new build
 * where copy-binary staged it. Returns the modules to rename.
 */
export function* stageModules(run: HostRun, spec: CopyBinaryStep, stagedBinary: string): Generator<any, StagedModule[], any> {
  const specs = moduleSpecs(spec);
  if (!specs.length) return [];
  const m = run.facts.master;
  const facts: ModuleFacts | null = yield check<ModuleFacts | null>({
    description: `read the modules the running master${m ? ` (pid ${m.pid})` : ''} loads: its config (nginx -T of /proc/PID/exe with its -p/-c/-g), /proc/PID/maps, realpath of each module`,
    command: { script: 'nginx -T; cat /proc/PID/maps; realpath -m', args: [] },
    planned: null,
    run: (t) => (m ? readModuleFacts(t, run) : Promise.reject(new StepFailure('no running master to read the loaded modules from'))),
  });
  const out: StagedModule[] = [];
  const plan = facts
    ? planModules(specs, facts.configured, facts.realpaths, run.ctx.runId)
    // offline: the host was not read; each module replaces the loaded one of its name
    : { steps: specs.map((s) => offlineStep(s, run.ctx.runId)), unchanged: [], problems: [] };
  if (plan.problems.length) throw new Refusal(plan.problems.join('; '));
  if (facts) for (const w of checkModules(facts.configured, facts.maps, facts.realpaths).warnings) run.warn(w);
  for (const step of plan.steps) {
    const local = run.ctx.binaries.get(step.src);
    if (!local) throw new StepFailure(`no hashed file for module ${step.src}`);
    const got: { sha256: string; oldSha: string } = yield check({
      description: `upload module ${local.path} (${local.sha256 ? `sha256 ${short(local.sha256)}` : 'sha256 unknown'}) to ${step.staged}, give it the owner and mode of ${step.real}, check its sha256, read the sha256 of ${step.real}`,
      command: { script: 'SFTP put; chown/chmod --reference; sha256sum', args: [step.staged, step.real] },
      planned: { sha256: local.sha256, oldSha: '' },
      run: async (t) => {
        stagedOf(run).add(step.staged);
        await t.put(local.bytes, step.staged);
        await must(t, ['chown', `--reference=${step.real}`, '--', step.staged]);
        await must(t, ['chmod', `--reference=${step.real}`, '--', step.staged]);
        return checkSums(t, step.staged, step.real, local.sha256);
      },
      inPlan: {
        kind: 'check',
        description: `upload module ${local.path} to a private temp dir outside the nginx tree, check its sha256, read the sha256 of ${step.real}`,
        command: { script: 'mktemp -d /tmp/hotswap-plan.XXXXXX; SFTP put; sha256sum', args: [step.real] },
        run: async (t) => {
          const dir = (await must(t, ['mktemp', '-d', '/tmp/hotswap-plan.XXXXXX'])).trim();
          run.scratch.push(dir);
          const path = `${dir}/${basename(step.staged)}`;
          await t.put(local.bytes, path);
          return checkSums(t, path, step.real, local.sha256);
        },
      },
    });
    out.push({ ...step, sha256: local.sha256, oldSha: got.oldSha });
  }
  if (spec.test_config !== false) yield* testWithModules(run, facts, out, stagedBinary);
  // the old modules, verified, where rollback finds them (a package's module outside its directories)
  const bspec = backupSpec(run);
  for (const mod of out) {
    const owner = facts ? yield* ownerOf(run, mod.real) : null;
    const place = placeBackup(mod.real, owner !== null && owner.packages.length > 0, run.ctx.stamp, { dir: bspec.dir });
    const keep = bspec.keep ?? 3;
    const mkdir = place.dir !== dirname(mod.real);
    yield change({
      description: `${mkdir ? `create ${place.dir} (mode 0700) if missing, ` : ''}copy module ${mod.real} to ${place.dest} and verify its sha256${mod.oldSha ? ` ${short(mod.oldSha)}` : ''}; keep the newest ${keep} backups named ${place.base}.<UTC time>.bak in ${place.dir}`,
      command: { script: 'BACKUP (file-ops.ts)', args: [mod.real, place.dest, mod.oldSha, place.dir, place.base, String(keep)] },
      planned: [],
      run: async (t) => {
        if (mkdir) await must(t, ['mkdir', '-p', '-m', '0700', '--', place.dir]);
        return backupFile(t, mod.real, place.dest, mod.oldSha, { dir: place.dir, base: place.base, keep });
      },
    });
    (run.state.modules ??= []).push({ path: mod.real, backup: place.dest, oldSha: mod.oldSha });
  }
  return out;
}

/** Offline, the loaded modules are unknown: the module of the same name, in the directory the config loads it from. */
function offlineStep(s: ModuleSpec, runId: string): ModuleStep {
  const real = s.dest ?? `/<modules dir>/${basename(s.src)}`;
  return { src: s.src, target: real, real, staged: `${dirname(real)}/.${basename(real)}.hotswap-${runId}`, loaded: true };
}

// `sha256sum` prints "HEX  PATH" per file, in the order given.
async function checkSums(t: Transport, staged: string, real: string, want: string): Promise<{ sha256: string; oldSha: string }> {
  const lines = (await must(t, ['sha256sum', '--', staged, real])).split('\n');
  const [sha256, oldSha] = [lines[0]?.split(' ')[0] ?? '', lines[1]?.split(' ')[0] ?? ''];
  if (want && sha256 !== want) throw new Refusal(`the uploaded module ${staged} has sha256 ${sha256}, expected ${want}`);
  return { sha256, oldSha };
}

/** The new build's `nginx -t` against a copy of the config (beside it) that loads the staged modules; the copy is always removed. */
function* testWithModules(run: HostRun, facts: ModuleFacts | null, mods: StagedModule[], binary: string): StepGen {
  const { cwd, prefix, globals } = facts ? masterArgs(run) : { cwd: [], prefix: undefined, globals: undefined };
  const test = facts ? stagedTestConfig(facts.files, { conf: facts.conf, prefix: facts.prefix, runId: run.ctx.runId, modules: mods }) : null;
  const path = test?.path ?? `<dir of the config>/.nginx.conf.hotswap-${run.ctx.runId}`;
  const argv = [...cwd, binary, ...(prefix ? ['-p', prefix] : []), '-c', path, ...(globals ? ['-g', globals] : []), '-t'];
  const description = `write ${path}, a copy of the running config loading the staged modules (${test?.rewritten.join(', ') || 'the load_module lines of the replaced modules'}), run ${commandLine(argv)}, remove the copy`;
  let out: { code: number | null; text: string };
  out = yield check({
    description,
    command: { script: 'SFTP put; nginx -t; rm -f', args: argv },
    planned: { code: 0, text: '' },
    run: async (t) => {
      try {
        await t.put(Buffer.from(test!.text), path);
        const r = await t.exec(argv, { timeoutMs: 60_000 });
        return { code: r.code, text: `${r.stdout}${r.stderr}`.trim() };
      } finally {
        await removeFile(t, path).catch(() => undefined);
      }
    },
    // a plan writes nothing beside nginx.conf: the test runs at apply
    inPlan: { kind: 'wait', description: `at apply: ${description}`, planned: { code: 0, text: '' }, run: () => Promise.resolve({ code: 0, text: '' }) },
  });
  if (out.code !== 0) throw new Refusal(`${classifyConfigTest(out.text).message} (with the staged modules ${mods.map((x) => x.staged).join(', ')})`);
  return '';
}

/** The renames: each staged module over the file it replaces, before the binary's; the first one enters phase `replaced`. */
export function* renameModules(run: HostRun, mods: StagedModule[]): StepGen {
  for (const mod of mods) {
    yield change({
      description: `rename ${mod.staged} over ${mod.real} (sha256 ${short(mod.oldSha)} -> ${short(mod.sha256)})`,
      command: { script: 'RENAME (steps/file-ops.ts)', args: [mod.staged, mod.real] },
      phase: 'replaced',
      run: async (t) => {
        await renameInto(t, mod.staged, mod.real);
        stagedOf(run).delete(mod.staged);
      },
    });
  }
  return '';
}
