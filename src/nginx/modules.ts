// Dynamic modules: which module files the running master loaded (the config's
// load_module directives, cross-checked with /proc/MASTER/maps), and the plan
// to ship new ones with a new build. Pure.
//
// Seen on Debian 12 (test/fixtures/modules/, lab/layout-capture.ts):
// - Debian loads modules through `include /etc/nginx/modules-enabled/*.conf;`,
//   links to /usr/share/nginx/modules-available/mod-*.conf holding
//   `load_module modules/ngx_..._module.so;`. A relative load_module path is
//   relative to the prefix (-p, else --prefix: /usr/share/nginx/), not to
//   --modules-path; Debian links /usr/share/nginx/modules to
//   /usr/lib/nginx/modules. /proc/MASTER/maps names the resolved file.
// - A module file renamed over while the master runs stays mapped; maps then
//   reads "PATH (deleted)". Only a new master (USR2) loads the new file.
// - nginx refuses a module built for another nginx version at `nginx -t`
//   ("module ... version X instead of Y"), and a file that is no module with
//   the dlopen() error: the staged check catches both before anything changes.
import { basename, dirname } from 'node:path';
import { confPrefix, fullName, includeTargets, mainContext, mainDirectives, type ConfigFiles, type Directive } from './nginx-conf.js';

/** One `load_module` of the main context. */
export interface LoadedModule {
  /** the path as written */
  arg: string;
  /** resolved against the prefix, as nginx opens it */
  path: string;
  /** "FILE:LINE" of the directive */
  from: string;
}

/** The load_module directives of the main context, in load order. */
export function configuredModules(files: ConfigFiles, conf: string, prefix: string): LoadedModule[] {
  return mainContext(files, conf).directives
    .filter((d) => d.name === 'load_module' && !d.block && d.args.length === 1)
    .map((d) => ({ arg: d.args[0]!, path: fullName(prefix, d.args[0]!), from: `${d.file}:${d.line}` }));
}

/** A shared object mapped into the master. */
export interface MappedObject {
  path: string;
  /** the file was replaced or removed since it was mapped */
  deleted: boolean;
}

/** The `.so` files in /proc/PID/maps (each once), in first-seen order. */
export function parseMaps(text: string): MappedObject[] {
  const out = new Map<string, MappedObject>();
  for (const line of text.split('\n')) {
    // address perms offset dev inode pathname; the pathname may hold spaces
    const m = /^[0-9a-f]+-[0-9a-f]+\s+\S+\s+[0-9a-f]+\s+\S+\s+\d+\s+(\/.*)$/.exec(line);
    if (!m) continue;
    let path = m[1]!;
    const deleted = path.endsWith(' (deleted)');
    if (deleted) path = path.slice(0, -' (deleted)'.length);
    if (!/\.so(\.[\w.]+)?$/.test(path) || out.has(path)) continue;
    out.set(path, { path, deleted });
  }
  return [...out.values()];
}

export interface ModuleCheck {
  /** configured and mapped: path as configured, real as mapped */
  loaded: Array<LoadedModule & { real: string; deleted: boolean }>;
  /** configured now but not in the master: the config changed since it started (a new master would load them) */
  notMapped: Array<LoadedModule & { real: string }>;
  /** mapped from a module directory but configured no more */
  notConfigured: MappedObject[];
  warnings: string[];
}

/**
 * Compares the configured modules with the master's mappings. `realpaths`
 * maps each configured path to `realpath -m` of it on the host (missing: taken
 * as is). Mapped libraries outside the module directories (libc, libssl) are
 * not modules and are ignored.
 */
export function checkModules(configured: LoadedModule[], maps: MappedObject[], realpaths: Record<string, string>): ModuleCheck {
  const real = (p: string) => realpaths[p] ?? p;
  const byPath = new Map(maps.map((m) => [m.path, m]));
  const dirs = new Set(configured.map((c) => dirname(real(c.path))));
  const out: ModuleCheck = { loaded: [], notMapped: [], notConfigured: [], warnings: [] };
  for (const c of configured) {
    const m = byPath.get(real(c.path));
    if (m) out.loaded.push({ ...c, real: m.path, deleted: m.deleted });
    else out.notMapped.push({ ...c, real: real(c.path) });
  }
  const used = new Set(out.loaded.map((l) => l.real));
  for (const m of maps) if (dirs.has(dirname(m.path)) && !used.has(m.path)) out.notConfigured.push(m);
  for (const l of out.loaded) {
    if (l.deleted) out.warnings.push(`the master runs module ${l.real} from a file since replaced or removed (a package upgrade of the module?): the new build loads the file there now`);
  }
  for (const n of out.notMapped) out.warnings.push(`${n.from} loads ${n.path}, which the running master has not loaded: the config changed since it started; the new build will load it`);
  for (const n of out.notConfigured) out.warnings.push(`the running master has ${n.path} loaded, but no load_module names it now: the new build will run without it`);
  return out;
}

/** One module file of the playbook's set (`copy-binary.modules`). */
export interface ModuleSpec {
  /** file on the control machine */
  src: string;
  /** the module file on the host; default: the loaded module with src's file name */
  dest?: string;
}

export interface ModuleStep {
  src: string;
  /** as configured (load_module resolved), what the staged -t rewrites */
  target: string;
  /** the file renamed over: realpath of target (a symlinked module is replaced, not its link) */
  real: string;
  /** beside the real file, same file system: the rename is atomic */
  staged: string;
  /** the target is loaded by the config now; false: a new file the config does not load (yet) */
  loaded: boolean;
}

export interface ModulePlan {
  steps: ModuleStep[];
  /** loaded modules the set leaves as they are (they must still load in the new build: -t checks it) */
  unchanged: LoadedModule[];
  problems: string[];
}

/** Pairs the playbook's module files with the host's loaded modules. */
export function planModules(specs: ModuleSpec[], configured: LoadedModule[], realpaths: Record<string, string>, runId: string): ModulePlan {
  const problems: string[] = [];
  const steps: ModuleStep[] = [];
  const real = (p: string) => realpaths[p] ?? p;
  for (const s of specs) {
    let target: string | undefined;
    if (s.dest !== undefined) {
      if (!s.dest.startsWith('/')) {
        problems.push(`module ${s.src}: dest ${s.dest} must be an absolute path on the host`);
        continue;
      }
      target = configured.find((c) => c.path === s.dest || real(c.path) === s.dest)?.path ?? s.dest;
    } else {
      const same = configured.filter((c) => basename(c.path) === basename(s.src));
      if (same.length !== 1) {
        problems.push(same.length === 0
          ? `module ${s.src}: no load_module of the running config names a file ${basename(s.src)} (loaded: ${configured.map((c) => c.path).join(', ') || 'none'}); give its dest`
          : `module ${s.src}: several loaded modules are named ${basename(s.src)} (${same.map((c) => c.path).join(', ')}); give its dest`);
        continue;
      }
      target = same[0]!.path;
    }
    const r = real(target);
    if (steps.some((x) => x.real === r)) {
      problems.push(`module ${s.src}: ${r} is already replaced by ${steps.find((x) => x.real === r)!.src}`);
      continue;
    }
    steps.push({ src: s.src, target, real: r, staged: `${dirname(r)}/.${basename(r)}.hotswap-${runId}`, loaded: configured.some((c) => c.path === target) });
  }
  const replaced = new Set(steps.map((x) => x.target));
  return { steps, unchanged: configured.filter((c) => !replaced.has(c.path)), problems };
}

/** A config beside the main one that loads the staged modules instead of the targets. */
export interface StagedTestConfig {
  path: string;
  text: string;
  /** "FILE:LINE" of each load_module rewritten */
  rewritten: string[];
}

// Why a rewritten copy beside nginx.conf: the new build must be tested with the
// new modules before anything is renamed, and nginx resolves relative includes
// against the directory of -c, so a copy in the same directory reads the same
// files. Includes at top level that (transitively) hold a rewritten
// load_module are inlined (nginx resolves their relative paths against the
// same directory, so inlining changes nothing else); everything else is kept
// byte for byte.
/**
 * The text of the test config: `nginx -t -c PATH` (with the master's -p/-g)
 * then loads each staged module where its target was loaded.
 */
export function stagedTestConfig(files: ConfigFiles, o: { conf: string; prefix: string; runId: string; modules: Array<{ target: string; staged: string }> }): StagedTestConfig {
  const main = files.get(o.conf);
  if (main === undefined) throw new Error(`the config dump holds no ${o.conf}`);
  const swap = new Map(o.modules.map((m) => [m.target, m.staged]));
  const rewritten: string[] = [];
  const cprefix = confPrefix(o.conf);
  const seen = new Set<string>();

  const render = (file: string, text: string): string => {
    seen.add(file);
    let out = '';
    let at = 0;
    for (const d of mainDirectives(text, file)) {
      const replacement = replace(d);
      if (replacement === null) continue;
      out += text.slice(at, d.start) + replacement;
      at = d.end;
    }
    seen.delete(file);
    return out + text.slice(at);
  };
  const targets = (d: Directive) => includeTargets(files, cprefix, d.args[0]!).filter((f) => !seen.has(f));
  const holdsSwap = (f: string): boolean => mainDirectives(files.get(f)!, f).some((x) => !x.block && x.args.length === 1 &&
    ((x.name === 'load_module' && swap.has(fullName(o.prefix, x.args[0]!))) || (x.name === 'include' && !seen.has(f) && withSeen(f, () => targets(x).some(holdsSwap)))));
  const withSeen = <T>(f: string, fn: () => T): T => {
    seen.add(f);
    try { return fn(); } finally { seen.delete(f); }
  };
  const replace = (d: Directive): string | null => {
    if (d.block || d.args.length !== 1) return null;
    if (d.name === 'load_module') {
      const staged = swap.get(fullName(o.prefix, d.args[0]!));
      if (staged === undefined) return null;
      rewritten.push(`${d.file}:${d.line}`);
      return `load_module ${quote(staged)}; # hotswap: staged for ${d.args[0]}`;
    }
    if (d.name === 'include') {
      const included = targets(d);
      if (!included.some(holdsSwap)) return null;
      return [`# hotswap: include ${d.args[0]} (${d.file}:${d.line}) inlined`,
        ...included.map((f) => `# hotswap: from ${f}\n${render(f, files.get(f)!)}`), `# hotswap: end of include ${d.args[0]}`].join('\n');
    }
    return null;
  };

  const text = render(o.conf, main);
  return { path: `${cprefix}.${basename(o.conf)}.hotswap-${o.runId}`, text, rewritten };
}

/** A config word nginx reads back as `s` (double quotes, \" and \\ escaped). */
export function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
