// nginx under systemd: which unit holds the master, what systemd knows of it,
// and whether a hot upgrade would keep systemd tracking nginx. Pure: the host
// side reads /proc/PID/cgroup and `systemctl show`; these functions decide.
//
// Seen on systemd 252 (Debian 12 booted with systemd-nspawn, the packaged
// nginx.service: Type=forking, PIDFile=/run/nginx.pid, KillMode=mixed,
// ExecStop=-start-stop-daemon --stop --retry QUIT/5 --pidfile /run/nginx.pid):
// - MainPID stays on the old master through USR2 and WINCH. When the old master
//   exits, systemd re-reads PIDFile and adopts the new master (a child of the old
//   one, in the same cgroup) within ~0.3 s, silently.
// - Without PIDFile (or when it names another file) systemd finds no main process
//   at the QUIT: the unit goes deactivating, then runs its stop: ExecStop reads
//   nginx's pid file, by then the new master's, and kills it; KillMode kills the
//   rest of the cgroup. Nothing serves. ExecStop is not the cause but the weapon:
//   it runs because systemd lost the main process, so the rules are about that.
// - Without PIDFile from the start, systemd guesses MainPID (GuessMainPID=yes) and
//   the guess races nginx's fork: seen both MainPID=0 (then the QUIT goes
//   unnoticed, but systemd tracks nothing) and MainPID=master (then it kills).
// - A drop-in restoring PIDFile plus `systemctl daemon-reload` is enough while
//   MainPID is the master (seen: the next upgrade is adopted); with MainPID=0 only
//   a restart makes systemd track nginx again.
// - Type=simple/notify/exec track the process systemd started; nginx must then run
//   with `daemon off`, which ignores USR2 and WINCH (pre-flight refuses that).

/** The unit a process belongs to, read from its cgroup. */
export interface CgroupUnit {
  /** e.g. nginx.service, session-3.scope */
  unit: string;
  /** the full cgroup path the unit was read from */
  path: string;
  /** under a user manager (user@UID.service): `systemctl --user` territory */
  userManager: boolean;
}

const UNIT_NAME = /^[A-Za-z0-9:_.\\@-]+\.(service|scope)$/;

// Why the deepest .service/.scope component: in a container without a cgroup
// namespace the path carries the container's own slices in front
// (/machine.slice/x.scope/system.slice/nginx.service); the innermost unit is
// the one that manages the process.
/**
 * The unit in `/proc/PID/cgroup` text: the cgroup v1 `name=systemd` hierarchy
 * when present (hybrid and legacy systems), else the v2 `0::` line. Null when
 * the process is in no systemd unit (no systemd, or a container's bare `/`).
 */
export function unitFromCgroup(text: string): CgroupUnit | null {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const pathOf = (l: string) => l.slice(l.indexOf(':', l.indexOf(':') + 1) + 1);
  const v1 = lines.find((l) => l.split(':')[1] === 'name=systemd');
  const v2 = lines.find((l) => l.startsWith('0::'));
  const line = v1 ?? v2;
  if (!line) return null;
  const path = pathOf(line);
  const parts = path.split('/').filter(Boolean);
  for (let i = parts.length - 1; i >= 0; i--) {
    const p = parts[i]!;
    if (!UNIT_NAME.test(p)) continue;
    return { unit: p, path, userManager: parts.slice(0, i).some((q) => /^user@\d+\.service$/.test(q)) };
  }
  return null;
}

/** The properties hotswap asks `systemctl show` for. */
export const UNIT_PROPERTIES = [
  'Id', 'LoadState', 'Type', 'PIDFile', 'MainPID', 'GuessMainPID', 'KillMode', 'ExecStop', 'ExecReload',
  'ActiveState', 'SubState', 'FragmentPath', 'DropInPaths',
] as const;

/** `systemctl show --no-pager -p … -- UNIT` as an argv (the unit is one quoted argument). */
export function systemctlShowArgv(unit: string): string[] {
  return ['systemctl', 'show', '--no-pager', '-p', UNIT_PROPERTIES.join(','), '--', unit];
}

/** One ExecStop=/ExecReload= command as systemctl prints it. */
export interface ExecCommand {
  path: string;
  /** argv joined by spaces (systemctl loses the quoting) */
  argv: string;
  /** the command had a `-` prefix: its failure is ignored */
  ignoreErrors: boolean;
}

export interface UnitFacts {
  id: string;
  loadState: string;
  type: string;
  /** empty when the unit has none */
  pidFile: string;
  /** 0 when systemd tracks no main process */
  mainPid: number;
  guessMainPid: boolean;
  killMode: string;
  execStop: ExecCommand[];
  execReload: ExecCommand[];
  activeState: string;
  subState: string;
  fragmentPath: string;
  dropInPaths: string[];
}

/** Parses `systemctl show -p …` output (KEY=VALUE lines; missing keys read as empty). */
export function parseSystemctlShow(text: string): UnitFacts {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1).replace(/\r$/, ''));
  }
  const get = (k: string) => kv.get(k) ?? '';
  const pid = Number.parseInt(get('MainPID'), 10);
  return {
    id: get('Id'),
    loadState: get('LoadState'),
    type: get('Type'),
    pidFile: get('PIDFile'),
    mainPid: Number.isInteger(pid) && pid > 0 ? pid : 0,
    guessMainPid: get('GuessMainPID') !== 'no',
    killMode: get('KillMode'),
    execStop: parseExecCommands(get('ExecStop')),
    execReload: parseExecCommands(get('ExecReload')),
    activeState: get('ActiveState'),
    subState: get('SubState'),
    fragmentPath: get('FragmentPath'),
    dropInPaths: get('DropInPaths').split(/\s+/).filter(Boolean),
  };
}

/** `{ path=… ; argv[]=… ; ignore_errors=yes ; … }` blocks, one per command. */
export function parseExecCommands(value: string): ExecCommand[] {
  const out: ExecCommand[] = [];
  for (const m of value.matchAll(/\{ path=(.*?) ; argv\[\]=(.*?) ; ignore_errors=(yes|no) ;/g)) {
    out.push({ path: m[1]!, argv: m[2]!, ignoreErrors: m[3] === 'yes' });
  }
  return out;
}

/** What the rules need besides the unit: nginx's own view, resolved on the host. */
export interface SystemdCheckInput {
  unit: UnitFacts;
  /** the running master's pid */
  masterPid: number;
  /** nginx's pid file (the playbook's pid_file / the `pid` directive) */
  nginxPidFile: string;
  /** realpath -m of nginxPidFile on the host, when known */
  nginxPidFileReal?: string;
  /** realpath -m of the unit's PIDFile on the host, when known */
  unitPidFileReal?: string;
}

export interface SystemdRefusal {
  /** the setting at fault: PIDFile, Type, MainPID, ActiveState, LoadState */
  setting: string;
  /** one operator-facing paragraph: the unit, the setting, what would happen, the fix */
  message: string;
  /** the drop-in to write, when a drop-in is the fix */
  dropIn?: { path: string; text: string };
}

// Why refuse rather than warn: each of these makes systemd lose nginx at the
// QUIT, and losing it means running the unit's stop, which kills the new master.
/** Why a hot upgrade would kill nginx or make systemd lose track of it; empty when it is safe. */
export function systemdRefusals(input: SystemdCheckInput): SystemdRefusal[] {
  const u = input.unit;
  const name = u.id || 'the unit';
  const where = u.fragmentPath ? ` (${[u.fragmentPath, ...u.dropInPaths].join(', ')})` : '';
  const out: SystemdRefusal[] = [];
  if (u.loadState && u.loadState !== 'loaded') {
    out.push({ setting: 'LoadState', message: `systemd unit ${name} is ${u.loadState}, yet the nginx master ${input.masterPid} runs in its cgroup: fix the unit (systemctl status ${name}) before a hot upgrade` });
    return out;
  }
  const pidDropIn = dropIn(name, [`PIDFile=${input.nginxPidFile}`]);
  if (u.type !== 'forking') {
    out.push({
      setting: 'Type',
      message: `systemd unit ${name}${where} has Type=${u.type || '(none)'}: systemd tracks the process it started, so when the old master exits it stops the unit and kills the new master. ` +
        `A hot upgrade needs nginx daemonized under Type=forking with PIDFile=${input.nginxPidFile}: write ${dropInHint(name, ['Type=forking', `PIDFile=${input.nginxPidFile}`])}, ` +
        `remove \`daemon off\` / \`-g 'daemon off;'\` from nginx's config and ExecStart, then \`systemctl daemon-reload && systemctl restart ${name}\` (once, a cold restart)`,
      dropIn: dropIn(name, ['Type=forking', `PIDFile=${input.nginxPidFile}`]),
    });
  }
  if (!u.pidFile) {
    out.push({
      setting: 'PIDFile',
      message: `systemd unit ${name}${where} has no PIDFile=: when the old master exits at the QUIT, systemd finds no main process, stops the unit and its ` +
        `${stopWeapon(u)} kills the new master — nginx would be down. Fix: write ${dropInHint(name, [`PIDFile=${input.nginxPidFile}`])}, ` +
        `then \`systemctl daemon-reload\`${u.mainPid === input.masterPid ? '' : ` and \`systemctl restart ${name}\``}`,
      dropIn: pidDropIn,
    });
  } else if (!samePath(u.pidFile, input.nginxPidFile, input.unitPidFileReal, input.nginxPidFileReal)) {
    out.push({
      setting: 'PIDFile',
      message: `systemd unit ${name}${where} has PIDFile=${u.pidFile}, but nginx writes its pid to ${input.nginxPidFile}: when the old master exits, systemd reads a file the new master never wrote, ` +
        `stops the unit and its ${stopWeapon(u)} kills the new master. Fix: write ${dropInHint(name, [`PIDFile=${input.nginxPidFile}`])}, then \`systemctl daemon-reload\` ` +
        `(or make nginx's \`pid\` directive name ${u.pidFile})`,
      dropIn: pidDropIn,
    });
  }
  if (u.mainPid !== input.masterPid) {
    out.push({
      setting: 'MainPID',
      message: `systemd unit ${name} has MainPID=${u.mainPid || 'none'}, not the nginx master ${input.masterPid}: systemd is not tracking this master, so it cannot hand the unit over to the new one. ` +
        `Fix the unit (PIDFile=${input.nginxPidFile}, Type=forking) and \`systemctl restart ${name}\` so systemd starts and tracks nginx itself`,
    });
  }
  if (u.activeState !== 'active') {
    out.push({
      setting: 'ActiveState',
      message: `systemd unit ${name} is ${u.activeState || 'in an unknown state'}${u.subState ? ` (${u.subState})` : ''}, not active: a job is running or the unit failed; wait for it or fix it (systemctl status ${name}) before a hot upgrade`,
    });
  }
  return out;
}

export type MainPidCheck = { state: 'ok' } | { state: 'pending'; reason: string } | { state: 'failed'; reason: string };

// Why "pending": systemd adopts the new master from PIDFile a moment (≤0.3 s
// seen) after the old one exits; poll this until ok or failed, with a deadline,
// and treat a deadline on "pending" as failed.
/**
 * After the old master exited (upgrade) or the new one did (rollback): is
 * systemd tracking `expectedMaster`, and is the unit active?
 */
export function checkMainPid(unit: UnitFacts, expectedMaster: number, exitedMaster?: number): MainPidCheck {
  const name = unit.id || 'the unit';
  if (unit.activeState === 'active' && unit.mainPid === expectedMaster) return { state: 'ok' };
  if (['deactivating', 'inactive', 'failed'].includes(unit.activeState)) {
    return {
      state: 'failed',
      reason: `systemd unit ${name} went ${unit.activeState} (${unit.subState}, MainPID=${unit.mainPid || 'none'}) when the old master exited: systemd lost nginx and its stop kills the new master ${expectedMaster}; ` +
        `nginx is likely down — \`systemctl start ${name}\` brings it back (a cold start)`,
    };
  }
  if (unit.activeState === 'active' && (unit.mainPid === exitedMaster || unit.mainPid === 0)) {
    return { state: 'pending', reason: `systemd unit ${name} still has MainPID=${unit.mainPid || 'none'}, not the new master ${expectedMaster}` };
  }
  if (unit.activeState === 'active') {
    return { state: 'failed', reason: `systemd unit ${name} tracks MainPID=${unit.mainPid}, not the new master ${expectedMaster}: \`systemctl stop/reload ${name}\` would act on the wrong process` };
  }
  return { state: 'pending', reason: `systemd unit ${name} is ${unit.activeState || 'in an unknown state'} (${unit.subState}), MainPID=${unit.mainPid || 'none'}` };
}

/** One line for `status`: "nginx.service active (running), MainPID 123". */
export function describeUnit(unit: UnitFacts): string {
  return `${unit.id || 'unit'} ${unit.activeState || 'unknown'}${unit.subState ? ` (${unit.subState})` : ''}, MainPID ${unit.mainPid || 'none'}`;
}

function samePath(unitPath: string, nginxPath: string, unitReal?: string, nginxReal?: string): boolean {
  if (unitReal && nginxReal) return unitReal === nginxReal;
  // systemd itself rewrites /var/run to /run; without realpaths that is all we know
  const norm = (p: string) => p.replace(/^\/var\/run\//, '/run/').replace(/\/+/g, '/');
  return norm(unitPath) === norm(nginxPath);
}

function stopWeapon(u: UnitFacts): string {
  const stop = u.execStop[0];
  return stop ? `ExecStop (${stop.argv}) and KillMode=${u.killMode || 'control-group'}` : `KillMode=${u.killMode || 'control-group'}`;
}

function dropIn(unit: string, lines: string[]): { path: string; text: string } {
  return { path: `/etc/systemd/system/${unit}.d/hotswap.conf`, text: `[Service]\n${lines.join('\n')}\n` };
}

function dropInHint(unit: string, lines: string[]): string {
  const d = dropIn(unit, lines);
  return `${d.path} with "${d.text.trim().replace(/\n/g, '\\n')}" (or \`systemctl edit ${unit}\`)`;
}
