// Binary files on a host: backup, stage, check, rename into place, restore.
// Each is a constant sh script; paths and digests are positional arguments.
// A file is only ever replaced by rename(2) from a temp file in the same
// directory: `cp` over a running binary fails (ETXTBSY) and a half-written
// binary must never be exec'd.
import type { ExecOptions, Transport } from '../transport/transport.js';

export class RemoteError extends Error {
  constructor(message: string, readonly code: number | null) {
    super(message);
    this.name = 'RemoteError';
  }
}

export async function sh(t: Transport, script: string, args: readonly string[], opts: ExecOptions = {}): Promise<string> {
  const r = await t.exec(['sh', '-c', script, 'hotswap', ...args], { timeoutMs: 60_000, ...opts });
  if (r.code !== 0) throw new RemoteError((r.stderr.trim() || r.stdout.trim() || `exit code ${r.code}`).split('\n').slice(-5).join('; '), r.code);
  return r.stdout;
}

/** sh function: `sha FILE` prints the file's sha256 in hex (no fork beyond sha256sum's own). */
export const SHA = `sha() { _sha=$(sha256sum < "$1") || return 1; printf '%s\\n' "\${_sha%% *}"; }`;

// $1 source, $2 dest, $3 sha256 the copy must have, then $4 dir, $5 file
// name, $6 how many backups to keep. Copies to a temp name first so a crash
// never leaves a truncated file under the backup's name; then prunes only
// backups named by hotswap (<name>.<UTC timestamp>.bak: they sort by time)
// and prints the ones it removed.
const BACKUP = `set -u
${SHA}
src=$1 dest=$2 want=$3 dir=$4 base=$5 keep=$6 tmp="$2.hotswap-tmp.$$"
cp -p -- "$src" "$tmp" || { rm -f -- "$tmp"; exit 1; }
got=$(sha "$tmp")
if [ "$got" != "$want" ]; then rm -f -- "$tmp"; echo "the backup copy has sha256 $got, expected $want" >&2; exit 1; fi
mv -f -- "$tmp" "$dest" || exit 1
# hotswap's backups sort by name (a UTC stamp), so the glob lists them oldest first
STAMP='[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z.bak'
n=0
for f in "$dir/$base".*.bak; do case \${f#"$dir/$base".} in $STAMP) n=$((n + 1)) ;; esac; done
for f in "$dir/$base".*.bak; do
  [ "$n" -gt "$keep" ] || break
  case \${f#"$dir/$base".} in $STAMP) rm -f -- "$f" && printf '%s\\n' "$f"; n=$((n - 1)) ;; esac
done
exit 0`;

/** Makes a verified backup, then prunes; returns the backups removed. */
export async function backupFile(t: Transport, src: string, dest: string, sha256: string, prune: { dir: string; base: string; keep: number }): Promise<string[]> {
  return (await sh(t, BACKUP, [src, dest, sha256, prune.dir, prune.base, String(prune.keep)])).split('\n').filter(Boolean);
}

// $1 staged file, $2 sha256 it must have, $3 file whose owner and mode it
// takes (or "-"), $4 the running binary to compare \`-V\` with (or "-"), $5
// directory to test from ("/", the master's cwd when its -p is relative, or
// "-" for no test), then the arguments for \`nginx -t\` (the running
// master's -p/-c/-g). Exit 10: wrong digest, 11: owner or mode, 12: nginx -t
// failed, 13: the directory cannot be entered, 14: the build cannot be run.
const CHECK_STAGED = `set -u
${SHA}
f=$1 want=$2 ref=$3 running=$4 cwd=$5; shift 5
got=$(sha "$f")
[ "$got" = "$want" ] || { echo "the uploaded file has sha256 $got, expected $want" >&2; exit 10; }
if [ "$ref" != - ]; then
  # the login already owns both with its own group (test builtins): no chown
  if ! { [ -O "$ref" ] && [ -G "$ref" ] && [ -O "$f" ] && [ -G "$f" ]; }; then
    chown --reference="$ref" -- "$f" || exit 11
  fi
  chmod --reference="$ref" -- "$f" || exit 11
else
  chmod 0755 -- "$f" || exit 11
fi
if [ "$running" != - ]; then
  echo "--- new -V"; "$f" -V 2>&1
  echo "--- running -V"; "$running" -V 2>&1
  echo "--- end -V"
fi
if [ "$cwd" != - ]; then
  if ! cd -- "$cwd" 2>/dev/null; then
    printf 'the login %s cannot enter %s\\n' "$(id -un 2>/dev/null || id -u)" "$cwd" >&2; exit 13
  fi
  out=$("$f" "$@" -t 2>&1); rc=$?
  case $rc in
    0) printf '%s\\n' "$out" ;;
    126|127) printf 'cannot run %s: %s\\n' "$f" "$out" >&2; exit 14 ;;
    *) printf '%s\\n' "$out" >&2; exit 12 ;;
  esac
fi`;

export interface ConfigTest {
  cwd: string;
  args: string[];
}

/** Checks a staged binary: its digest, the reference file's owner and mode, `-V` of both builds, and `-t` when asked. */
export async function checkStaged(t: Transport, file: string, sha256: string, ownerFrom: string | null, compareWith: string | null, test: ConfigTest | null): Promise<string> {
  return sh(t, CHECK_STAGED, checkArgs(file, sha256, ownerFrom, compareWith, test));
}

/** CHECK_STAGED's positional arguments. */
export function checkArgs(file: string, sha256: string, ownerFrom: string | null, compareWith: string | null, test: ConfigTest | null): string[] {
  return [file, sha256, ownerFrom ?? '-', compareWith ?? '-', test?.cwd ?? '-', ...(test?.args ?? [])];
}

// $1 staged file, $2 target: the atomic replacement.
const RENAME = `mv -f -- "$1" "$2"`;
export async function renameInto(t: Transport, staged: string, target: string): Promise<void> {
  await sh(t, RENAME, [staged, target]);
}

// $1 backup, $2 target, $3 sha256 the backup must have. The backup is
// checked, then hard-linked to a temp name beside the target and renamed over
// it: a link takes no data block and no inode (on a disk file system), so a
// full disk cannot stop it. Where no link can be made (another file system,
// tmpfs with no inode left, no links) it is copied; where not even that can be
// written, the backup itself is renamed into place (then linked back to its
// own name when possible). Prints how: "link", "copy <why>" or "moved <why>".
const RESTORE = `set -u
${SHA}
bak=$1 target=$2 want=$3 tmp="$2.hotswap-restore.$$"
got=$(sha "$bak") || { echo "cannot read the backup $bak" >&2; exit 1; }
[ "$got" = "$want" ] || { echo "the backup $bak has sha256 $got, expected $want" >&2; exit 1; }
if why=$(ln -f -- "$bak" "$tmp" 2>&1); then
  mv -f -- "$tmp" "$target" || { rm -f -- "$tmp"; exit 1; }
  echo link; exit 0
fi
rm -f -- "$tmp"
if cp -p -- "$bak" "$tmp" 2>/dev/null && [ "$(sha "$tmp")" = "$want" ] && mv -f -- "$tmp" "$target"; then
  printf 'copy %s\\n' "$why"; exit 0
fi
rm -f -- "$tmp"
mv -f -- "$bak" "$target" || exit 1
if ln -- "$target" "$bak" 2>/dev/null; then printf 'moved %s\\n' "$why"; else printf 'moved-nolink %s\\n' "$why"; fi`;

/** How a restore put the old build back (see RESTORE). */
export interface Restored {
  how: 'link' | 'copy' | 'moved' | 'moved-nolink';
  /** why the link could not be made (ln's own words) */
  why?: string;
}

export async function restoreFile(t: Transport, backup: string, target: string, sha256: string, opts: ExecOptions = {}): Promise<Restored> {
  return parseRestored(await sh(t, RESTORE, [backup, target, sha256], opts));
}

export function parseRestored(out: string): Restored {
  const line = out.trim().split('\n').pop() ?? '';
  const [how, ...rest] = line.split(' ');
  const why = rest.join(' ').trim() || undefined;
  if (how === 'link' || how === 'copy' || how === 'moved' || how === 'moved-nolink') return { how, ...(why ? { why } : {}) };
  return { how: 'link' };
}

/** The restore in words, for the operator. */
export function restoredText(r: Restored, backup: string, target: string): string {
  switch (r.how) {
    case 'link':
      return `restored ${target} from ${backup} (hard link)`;
    case 'copy':
      return `restored ${target} from ${backup} by a copy: no hard link could be made (${r.why ?? '?'})`;
    case 'moved':
      return `restored ${target} by renaming ${backup} into place: neither a link nor a copy could be made (${r.why ?? '?'}); ${backup} was linked back`;
    case 'moved-nolink':
      return `restored ${target} by renaming ${backup} into place: neither a link nor a copy could be made (${r.why ?? '?'}); ${backup} is gone, ${target} is the only copy of the old build`;
  }
}

export async function removeFile(t: Transport, path: string): Promise<void> {
  await sh(t, 'rm -f -- "$1"', [path]);
}

