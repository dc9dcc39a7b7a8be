// Who owns the files hotswap replaces: dpkg or rpm, read with their own query
// tools on the host, decided here. Pure.
//
// Seen on Debian 12 (dpkg 1.21, test/fixtures/packages/, lab/layout-capture.ts):
// - /usr/sbin/nginx belongs to package `nginx` (nginx-light is a metapackage
//   depending on it); after hotswap renames a build over it, `dpkg --verify
//   nginx` prints `??5?????? /usr/sbin/nginx`.
// - A reinstall or upgrade of the package (`dpkg -i`, what apt runs) writes its
//   own build over the path, and its postinst runs `invoke-rc.d nginx upgrade`:
//   a hot upgrade to the package's build. hotswap's build is gone, silently.
// - With a local diversion (`dpkg-divert --local --no-rename --divert
//   PATH.distrib --add PATH`), dpkg writes the package's file to PATH.distrib
//   instead; PATH keeps hotswap's build, and the postinst's hot upgrade re-execs
//   PATH: hotswap's build again. `--rename` would move the running build aside
//   (and leave argv[0] missing until copy-binary renames the next one in), so
//   the plan copies the package's file to PATH.distrib itself and diverts with
//   --no-rename; `dpkg --verify` is then clean.

export type PackageManager = 'dpkg' | 'rpm';

export interface Diversion {
  /** "local" or the diverting package */
  by: string;
  /** where the package's file goes */
  to: string;
}

export interface Ownership {
  path: string;
  manager: PackageManager;
  /** the owning packages (dpkg lists several for a shared path); arch qualifiers kept */
  packages: string[];
  /** filled from dpkg-query / rpm --qf when known */
  version?: string;
  diversion?: Diversion;
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `dpkg -S PATH`, one exact path (dpkg reads it as a pattern; only an exact line counts). */
export const dpkgSearchArgv = (path: string): string[] => ['dpkg', '-S', '--', path];

/**
 * Parses `dpkg -S PATH`. Lines are `pkg[, pkg...]: PATH`, and for a diverted
 * path first `local diversion from: PATH` and `local diversion to: PATH.distrib`
 * (`diversion by PKG from:/to:` for a package's diversion). Not owned: exit 1 with "no path found matching pattern". Null
 * when no package owns the path; a diversion alone (a file dpkg never shipped)
 * is still returned, with no packages.
 */
export function parseDpkgSearch(path: string, r: CommandResult): Ownership | null {
  let diversion: Diversion | undefined;
  let packages: string[] = [];
  for (const line of r.stdout.split('\n')) {
    // dpkg 1.21: "local diversion to: X" / "diversion by PKG to: X" (and "... from: PATH")
    const div = /^(?:local diversion|diversion by (\S+)) (to|from): (.+)$/.exec(line);
    if (div) {
      if (div[2] === 'to') diversion = { by: div[1] ?? 'local', to: div[3]! };
      continue;
    }
    if (line.endsWith(`: ${path}`)) {
      packages = line.slice(0, -(path.length + 2)).split(',').map((p) => p.trim()).filter(Boolean);
    }
  }
  if (packages.length === 0 && !diversion) return null;
  return { path, manager: 'dpkg', packages, ...(diversion ? { diversion } : {}) };
}

/** `dpkg-query -W -f '${binary:Package}\t${Version}\t${db:Status-Abbrev}\n' PKG...` */
export const dpkgQueryArgv = (packages: string[]): string[] =>
  ['dpkg-query', '-W', '-f', '${binary:Package}\\t${Version}\\t${db:Status-Abbrev}\\n', '--', ...packages];

/** Package -> version, for installed packages only (status abbreviation `ii`). */
export function parseDpkgQuery(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const [pkg, version, status] = line.split('\t');
    if (pkg && version && status?.trim() === 'ii') out.set(pkg.replace(/:[a-z0-9]+$/, ''), version);
  }
  return out;
}

// Why --qf: the default NEVRA (nginx-1.20.1-14.el9_2.1.x86_64) cannot be split
// reliably (names hold dashes); tabs can.
/** `rpm -qf --qf 'NAME\tEPOCH:VERSION-RELEASE\tARCH\n' -- PATH` */
export const rpmQueryArgv = (path: string): string[] =>
  ['rpm', '-qf', '--qf', '%{NAME}\\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\\t%{ARCH}\\n', '--', path];

/**
 * Parses the rpmQueryArgv output. Not owned: exit 1 and "file PATH is not
 * owned by any package" (on stdout); missing: "error: file PATH: No such file
 * or directory" (stderr). Both give null.
 */
export function parseRpmQuery(path: string, r: CommandResult): Ownership | null {
  if (r.code !== 0) return null;
  const rows = r.stdout.split('\n').map((l) => l.split('\t')).filter((f) => f.length === 3 && f[0]);
  if (rows.length === 0) return null;
  const version = rows[0]![1]!.replace(/^0:/, '');
  return { path, manager: 'rpm', packages: [...new Set(rows.map((f) => f[0]!))], version };
}

/** One changed file, as `dpkg --verify` or `rpm -V` reports it. */
export interface VerifyIssue {
  path: string;
  /** the 9 check characters (`??5??????`, `S.5....T.`), or "missing" */
  checks: string;
  conffile: boolean;
  /** the digest differs: the content was replaced */
  digestChanged: boolean;
  missing: boolean;
}

/**
 * `dpkg --verify PKG` and `rpm -V PKG` print the same shape: 9 check
 * characters (5th = digest), an attribute column (`c` for a config file), the
 * path; or `missing` instead of the checks. Clean packages print nothing.
 */
export function parseVerify(stdout: string): VerifyIssue[] {
  const out: VerifyIssue[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^(missing|[?.A-Z0-9]{8,9})\s+(?:([cdglr])\s+)?(\/.*)$/.exec(line);
    if (!m) continue;
    const missing = m[1] === 'missing';
    out.push({ path: m[3]!, checks: m[1]!, conffile: m[2] === 'c', digestChanged: !missing && m[1]![2] === '5', missing });
  }
  return out;
}

/** The playbook's choice for a package-owned binary. */
export type PackagePolicy = 'keep' | 'divert';

/** The diversion's name for a path (Debian's own convention). */
export const divertedName = (path: string): string => `${path}.distrib`;

/**
 * Commands (argv each, run in order, as root) to divert `path` and to undo it.
 * add: the package's own file (`packageCopy`: the file before hotswap replaced
 * it, or its verified backup) goes to PATH.distrib, then dpkg records the
 * diversion without moving anything (--no-rename: PATH is the running build).
 * remove: forget the diversion, then rename the package's file back over PATH
 * (an atomic rename: the path never goes missing).
 */
export function divertCommands(o: { path: string; packageCopy: string }): { add: string[][]; remove: string[][] } {
  const to = divertedName(o.path);
  const tmp = `${to}.hotswap-tmp`;
  return {
    add: [
      ['cp', '-p', '--', o.packageCopy, tmp],
      ['mv', '-f', '--', tmp, to],
      ['dpkg-divert', '--local', '--no-rename', '--divert', to, '--add', o.path],
    ],
    remove: [
      ['dpkg-divert', '--local', '--no-rename', '--remove', o.path],
      ['mv', '-f', '--', to, o.path],
    ],
  };
}

/** What `plan` says about a package-owned file, and whether the next package upgrade replaces the build. */
export interface OwnershipNote {
  /** the upgrade of the package would overwrite hotswap's build */
  atRisk: boolean;
  text: string;
  /** commands to run before the copy-binary rename (divert policy only) */
  commands: string[][];
}

/**
 * The plan note for one file hotswap replaces. `policy` is the playbook's
 * `nginx.package` (default keep); `packageCopy` is where the package's own file
 * is found (the file itself before the upgrade, else the backup).
 */
export function ownershipNote(o: Ownership | null, policy: PackagePolicy, packageCopy: string): OwnershipNote {
  if (!o) return { atRisk: false, text: '', commands: [] };
  const who = `${o.packages.join(', ') || '(no package)'}${o.version ? ` ${o.version}` : ''} (${o.manager})`;
  if (o.diversion) {
    return {
      atRisk: false,
      text: `${o.path} is diverted by ${o.diversion.by} to ${o.diversion.to}: package upgrades of ${who} write there and leave the build hotswap installs in place`,
      commands: [],
    };
  }
  if (o.manager === 'rpm') {
    return {
      atRisk: true,
      text: `${o.path} belongs to ${who}: the next package upgrade (dnf/yum) replaces the build hotswap installs, silently; \`rpm -V ${o.packages[0]}\` will report it changed. rpm has no diversion: exclude the package from updates (dnf \`excludepkgs=${o.packages[0]}\`, or \`dnf versionlock add ${o.packages[0]}\`) to keep it`,
      commands: [],
    };
  }
  if (policy === 'divert') {
    const c = divertCommands({ path: o.path, packageCopy });
    return {
      atRisk: false,
      text: `${o.path} belongs to ${who}: before replacing it, divert it (the package's file goes to ${divertedName(o.path)}, future package upgrades install there and hotswap's build stays; security fixes of the package then reach ${o.path} only through hotswap; undo with \`dpkg-divert --local --no-rename --remove ${o.path}\` and \`mv ${divertedName(o.path)} ${o.path}\`)`,
      commands: c.add,
    };
  }
  return {
    atRisk: true,
    text: `${o.path} belongs to ${who}: the next package upgrade replaces the build hotswap installs (and its postinst hot-upgrades nginx to the package's build); \`dpkg --verify ${o.packages[0]}\` will report ${o.path} changed. Keep it with \`nginx.package: divert\``,
    commands: [],
  };
}

/** Where backups of package-owned files go by default: outside every package's directories. */
export const PACKAGE_BACKUP_ROOT = '/var/backups/hotswap';

export interface BackupPlace {
  /** the directory backups of this file live in (and are pruned in) */
  dir: string;
  /** backups are named `<base>.<UTC stamp>.bak` */
  base: string;
  dest: string;
  from: string;
}

// Why mirror the path under /var/backups/hotswap: a backup beside a packaged
// binary lands in /usr/sbin, where dpkg and the admin's PATH see it; mirroring
// keeps /usr/sbin/nginx and /usr/lib/nginx/modules/x.so apart with readable names.
/**
 * The backup of `file` taken at `stamp` (YYYYMMDDTHHMMSSZ): the playbook's
 * `backup.dest` when given, beside the file when no package owns it, else
 * under /var/backups/hotswap/ + the file's directory.
 */
export function backupPlace(o: { file: string; owned: boolean; stamp: string; dest?: string; root?: string }): BackupPlace {
  const slash = o.file.lastIndexOf('/');
  const [fileDir, base] = [o.file.slice(0, slash) || '/', o.file.slice(slash + 1)];
  if (o.dest !== undefined) {
    const i = o.dest.lastIndexOf('/');
    return { dir: o.dest.slice(0, i) || '/', base, dest: o.dest, from: 'playbook backup.dest' };
  }
  if (!o.owned) return { dir: fileDir, base, dest: `${o.file}.${o.stamp}.bak`, from: `beside ${o.file}` };
  const dir = `${o.root ?? PACKAGE_BACKUP_ROOT}${fileDir === '/' ? '' : fileDir}`;
  return { dir, base, dest: `${dir}/${base}.${o.stamp}.bak`, from: `${o.file} belongs to a package: backups go outside its directories` };
}

const STAMP = /^\d{8}T\d{6}Z$/;

/**
 * Which of `names` (file names in a backup directory) to remove so that at
 * most `keep` hotswap backups of `base` remain: only `<base>.<UTC stamp>.bak`
 * names count (they sort by time), the newest `keep` stay, and `protect`
 * (a backup a journal still needs for rollback) is never removed, even when older. Run after a backup and
 * after a rollback.
 */
export function pruneSet(names: string[], base: string, keep: number, protect: string[] = []): string[] {
  const ours = names.filter((n) => n.startsWith(`${base}.`) && n.endsWith('.bak') && STAMP.test(n.slice(base.length + 1, -4))).sort();
  // the newest `keep` stay; of the older ones, all but the protected go
  return ours.slice(0, Math.max(ours.length - Math.max(keep, 0), 0)).filter((n) => !protect.includes(n));
}
