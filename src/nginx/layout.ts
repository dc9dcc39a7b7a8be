// Where a running nginx keeps its config, pid file and error log, derived the
// way nginx itself decides them, so a playbook may name only the binary. Pure:
// the host side sends `nginx -V` of the running build (/proc/MASTER/exe -V),
// the master's -p/-c/-g/-e (facts.ts parseMasterTitle) and its config files
// (`nginx -T`, nginx-conf.ts); each path comes back with where it came from.
//
// nginx 1.22 (src/core/nginx.c ngx_process_options, ngx_core_module_init_conf):
// - prefix: -p (as given; a relative one is relative to the master's cwd), else
//   the compiled --prefix, else /usr/local/nginx/.
// - conf: -c, else --conf-path, else conf/nginx.conf; relative to the prefix.
// - pid: the `pid` directive (from -g or the main context), else --pid-path,
//   else logs/nginx.pid; relative to the prefix.
// - error log: the main context's `error_log` directives (nginx opens every
//   one; hotswap watches the first file), else -e, else --error-log-path, else
//   logs/error.log; relative to the prefix. `stderr` is no file (under
//   systemd it goes to the journal); syslog: and memory: are not files either.
// Debian's build says --error-log-path=stderr and --pid-path=/run/nginx.pid, and
// its nginx.conf says `pid /run/nginx.pid;` and `error_log /var/log/nginx/error.log;`.
import { parseNginxV } from '../steps/build-compat.js';
import { ConfigSyntaxError, fullName, mainContext, mainDirectives, type ConfigFiles, type Directive } from './nginx-conf.js';

/** A path and where it came from, for `plan`. */
export interface Derived {
  /** null: no file (error log to stderr/syslog) or unknown */
  path: string | null;
  /** e.g. "nginx -V --pid-path", "pid directive in /etc/nginx/nginx.conf:3", "-c on the master's command line" */
  from: string;
}

export interface LayoutInput {
  /** `nginx -V` output (stderr) of the running build */
  nginxV: string;
  /** the master's command line options (MasterArgs); absent when no master runs */
  master?: { prefix?: string; conf?: string; globals?: string; errorLog?: string; cwd?: string };
  /** the config files as read from the host (parseConfigDump); absent when they could not be read */
  files?: ConfigFiles;
  /** what the playbook gives (after templating); given paths win */
  given?: { prefix?: string; conf?: string; pid_file?: string; error_log?: string };
}

export interface Layout {
  /** nginx's own prefix (what relative config paths resolve against) */
  prefix: Derived;
  conf: Derived;
  pidFile: Derived;
  errorLog: Derived;
  /** --modules-path: informational (a relative load_module is relative to the prefix, not to this) */
  modulesPath: Derived;
  /** the playbook says one thing, nginx another: shown in plan */
  warnings: string[];
  /** a path hotswap needs cannot be known: the run must refuse and say what to give */
  problems: string[];
}

const DEFAULT_PREFIX = '/usr/local/nginx/';
const withSlash = (p: string) => (p.endsWith('/') ? p : `${p}/`);

/** Derives conf, pid file and error log (and the prefix) with their sources. */
export function deriveLayout(input: LayoutInput): Layout {
  const v = parseNginxV(input.nginxV).args;
  const m = input.master ?? {};
  const given = input.given ?? {};
  const warnings: string[] = [];
  const problems: string[] = [];

  let prefix: Derived;
  if (m.prefix !== undefined && m.prefix !== '') {
    const p = m.prefix.startsWith('/') ? m.prefix : m.cwd ? fullName(m.cwd, m.prefix) : null;
    prefix = { path: p && withSlash(p), from: `-p on the master's command line${m.prefix.startsWith('/') ? '' : ` (relative to its cwd ${m.cwd ?? 'unknown'})`}` };
    if (!p) problems.push(`the master's -p ${m.prefix} is relative and its working directory is unknown`);
  } else if (v.has('--prefix')) prefix = { path: withSlash(v.get('--prefix')!), from: 'nginx -V --prefix' };
  else prefix = { path: DEFAULT_PREFIX, from: "nginx's default prefix (nginx -V has no --prefix)" };
  const under = (p: string) => (prefix.path ? fullName(prefix.path, p) : p.startsWith('/') ? p : null);

  // conf
  let conf: Derived;
  if (m.conf) conf = { path: under(m.conf), from: "-c on the master's command line" };
  else if (v.has('--conf-path')) conf = { path: under(v.get('--conf-path')!), from: 'nginx -V --conf-path' };
  else conf = { path: under('conf/nginx.conf'), from: "nginx's default conf path (nginx -V has no --conf-path)" };
  if (given.conf !== undefined) {
    if (conf.path && given.conf !== conf.path) warnings.push(`the playbook's nginx.conf is ${given.conf}, but the running master reads ${conf.path} (${conf.from})`);
    conf = { path: given.conf, from: 'playbook nginx.conf' };
  }

  // the main context: -g first (nginx parses it before the file), then the file
  let directives: Directive[] = [];
  let fromG: Directive[] = [];
  let unread = '';
  try {
    fromG = m.globals ? mainDirectives(m.globals, "-g on the master's command line") : [];
    if (!input.files) unread = 'the config files were not read';
    else if (!conf.path || !input.files.has(conf.path)) unread = `the config read from the host holds no ${conf.path ?? 'main config'}`;
    else {
      const ctx = mainContext(input.files, conf.path);
      directives = [...fromG, ...ctx.directives];
      for (const u of ctx.unresolved) warnings.push(`${u.file}:${u.line}: include ${u.args[0]} names no file that was read: its directives are not known here`);
    }
    if (unread) directives = fromG;
  } catch (e) {
    if (!(e instanceof ConfigSyntaxError)) throw e;
    unread = `cannot read the config: ${e.message}`;
  }
  // the config proper was read: a missing directive means nginx's compiled default
  const read = unread === '';
  const source = (d: Directive) => (d.file.startsWith('-g ') ? `${d.name} in ${d.file}` : `${d.name} directive in ${d.file}:${d.line}`);
  const simple = (name: string) => directives.filter((d) => d.name === name && !d.block);

  // pid
  let pidFile: Derived;
  const pid = simple('pid')[0];
  if (pid && pid.args.length === 1) pidFile = { path: under(pid.args[0]!), from: source(pid) };
  else if (v.has('--pid-path')) pidFile = { path: under(v.get('--pid-path')!), from: `nginx -V --pid-path${read ? ' (no pid directive)' : ` (${unread}: a pid directive would win)`}` };
  else pidFile = { path: under('logs/nginx.pid'), from: `nginx's default pid path${read ? ' (no pid directive, no --pid-path)' : ` (${unread}: a pid directive would win)`}` };
  if (given.pid_file !== undefined) {
    if (pidFile.path && given.pid_file !== pidFile.path && read) warnings.push(`the playbook's nginx.pid_file is ${given.pid_file}, but nginx writes ${pidFile.path} (${pidFile.from})`);
    pidFile = { path: given.pid_file, from: 'playbook nginx.pid_file' };
  }

  // error log: the first error_log of the main context that is a file
  let errorLog: Derived | null = null;
  for (const d of simple('error_log')) {
    const target = d.args[0];
    if (target === undefined) continue;
    const path = logFile(target, under);
    if (path === undefined) continue; // syslog:, memory:: look further
    errorLog = path === null ? { path: null, from: `${source(d)} (stderr: no file)` } : { path, from: source(d) };
    break;
  }
  if (!errorLog) {
    const why = read ? '' : ` (${unread}: an error_log directive would win)`;
    const compiled = m.errorLog ? { v: m.errorLog, from: "-e on the master's command line" }
      : v.has('--error-log-path') ? { v: v.get('--error-log-path')!, from: 'nginx -V --error-log-path' }
        : { v: 'logs/error.log', from: "nginx's default error log" };
    const path = logFile(compiled.v, under);
    errorLog = { path: path ?? null, from: `${compiled.from}${path ? '' : ' (stderr: no file)'}${why}` };
  }
  if (given.error_log !== undefined) {
    if (errorLog.path && given.error_log !== errorLog.path && read) warnings.push(`the playbook's nginx.error_log is ${given.error_log}, but nginx logs to ${errorLog.path} (${errorLog.from})`);
    errorLog = { path: given.error_log, from: 'playbook nginx.error_log' };
  }

  const modulesPath: Derived = v.has('--modules-path')
    ? { path: under(v.get('--modules-path')!), from: 'nginx -V --modules-path' }
    : { path: under('modules'), from: "nginx's default modules path" };

  if (!pidFile.path) problems.push(`cannot tell nginx's pid file (${pidFile.from}): give nginx.pid_file`);
  if (!conf.path) problems.push(`cannot tell nginx's config file (${conf.from}): give nginx.conf`);
  if (!read && given.pid_file === undefined) warnings.push(`${unread}: the pid file is the compiled default; give nginx.pid_file if the config sets \`pid\``);
  return { prefix, conf, pidFile, errorLog, modulesPath, warnings, problems };
}

// `stderr` -> null (no file); `syslog:...`, `memory:...` -> undefined (not a file, not the terminal either)
function logFile(target: string, under: (p: string) => string | null): string | null | undefined {
  if (target === 'stderr') return null;
  if (target.startsWith('syslog:') || target.startsWith('memory:')) return undefined;
  return under(target);
}

/** The lines `plan` shows: "pid_file /run/nginx.pid (pid directive in /etc/nginx/nginx.conf:3)". */
export function describeLayout(l: Layout): string[] {
  const line = (k: string, d: Derived) => `${k} ${d.path ?? '(none)'} (${d.from})`;
  return [line('conf', l.conf), line('pid_file', l.pidFile), line('error_log', l.errorLog), line('prefix', l.prefix)];
}
