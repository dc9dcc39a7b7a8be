// `become: sudo`: the same Transport, with every command run as root through
// sudo, so steps never know. Uploads land in a temp file the login user can
// write and are moved into place with privilege.
import { randomBytes } from 'node:crypto';
import { isAbsolute } from 'node:path';
import type { Duplex } from 'node:stream';
import {
  settledQuietly, UnreachableError, type Command, type ExecOptions, type ExecResult, type PutOptions, type Transport,
} from './transport.js';

export interface BecomeOptions {
  /** the sudo password, used only when sudo asks for one */
  password?: string;
  /** the environment variable it came from (or should have), for messages */
  passwordEnv?: string;
}

/** sudo itself refused or failed: the command never ran. */
export class BecomeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BecomeError';
  }
}

// The command is started by a constant wrapper that first proves it runs: it
// writes the marker ($0) to stderr, then execs the argv. No marker means sudo
// refused. With a password, stdin starts with the password line (read by
// `sudo -S`) and the marker line (read by the wrapper, so a sudo that did not
// ask can never pass the password on to the command).
const AFTER_SUDO = 'printf %s "$0" >&2; exec "$@"';
const AFTER_SUDO_PASSWORD = 'IFS= read -r l || exit 125; [ "$l" = "$0" ] || { echo "sudo did not ask for the password it was given" >&2; exit 125; }; printf %s "$0" >&2; exec "$@"';
// $1 temp file, $2 destination: root-owned, mode 0600, then renamed (or copied across file systems).
const PLACE = 'chown 0:0 -- "$1" && chmod 600 -- "$1" && mv -f -- "$1" "$2"';
const TEMP = 'umask 077 && mktemp "${TMPDIR:-/tmp}/hotswap-upload.XXXXXXXX"';

// Why: steps must stay unaware of privilege. Sudo is tried once at connect
// time: without a password (`sudo -n`) first; when it wants one, the password
// from the environment, checked then and not on a command. Any refusal is a
// clear "cannot operate on this host" before anything was touched.
export async function becomeSudo(inner: Transport, opts: BecomeOptions = {}): Promise<Transport> {
  const t = new SudoTransport(inner, null);
  const probe = await t.tryExec(['true']);
  if (probe.ok) return t;
  if (!/password is required/.test(probe.why)) throw new UnreachableError(inner.host, `${inner.host}: ${probe.why}`);
  if (opts.password === undefined) {
    const how = opts.passwordEnv
      ? `ssh.become_password_env names ${opts.passwordEnv}, which is not set`
      : 'allow the login user to run sudo without a password (NOPASSWD in sudoers), or set ssh.become_password_env to the name of an environment variable holding the password';
    throw new UnreachableError(inner.host, `${inner.host}: sudo: a password is required (become: sudo runs sudo -n): ${how}`);
  }
  const withPassword = new SudoTransport(inner, opts.password);
  const second = await withPassword.tryExec(['true']);
  if (second.ok) return withPassword;
  const refused = /incorrect password|try again|authentication failure/i.test(second.why);
  throw new UnreachableError(inner.host, `${inner.host}: ${refused ? `sudo refused the password from $${opts.passwordEnv ?? 'the environment'}` : second.why}`);
}

class SudoTransport implements Transport {
  readonly host: string;
  private readonly marker = `hotswap-become-${randomBytes(8).toString('hex')}`;

  constructor(private readonly inner: Transport, private readonly password: string | null) {
    this.host = inner.host;
  }

  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await this.tryExec(argv, opts);
    if (!r.ok) throw new BecomeError(`${this.host}: ${r.why}`);
    return r.result;
  }

  /** Runs argv as root; `ok: false` when sudo refused and the command did not run. */
  async tryExec(argv: readonly string[], opts: ExecOptions = {}): Promise<{ ok: true; result: ExecResult } | { ok: false; why: string }> {
    const r = await this.inner.exec(...this.sudo(argv, opts));
    return this.unwrap(r);
  }

  // The sudo commands, as one sequence on the inner transport: a command sudo
  // refused exits non-zero, so the ones after it do not run.
  sequence(commands: readonly Command[]): Array<Promise<ExecResult>> {
    const results = this.inner.sequence(commands.map((c) => {
      const [argv, opts] = this.sudo(c.argv, c);
      return { ...opts, argv };
    }));
    return results.map((p) => settledQuietly(p.then((r) => {
      const u = this.unwrap(r);
      if (!u.ok) throw new BecomeError(`${this.host}: ${u.why}`);
      return u.result;
    })));
  }

  /** argv and options for the inner transport: sudo, the wrapper, and the password line when there is one. */
  private sudo(argv: readonly string[], opts: ExecOptions): [string[], ExecOptions] {
    if (argv.length === 0) throw new Error('exec: empty argv');
    const sudo = this.password === null
      ? ['sudo', '-n', '--', 'sh', '-c', AFTER_SUDO, this.marker, ...argv]
      : ['sudo', '-k', '-S', '-p', '', '--', 'sh', '-c', AFTER_SUDO_PASSWORD, this.marker, ...argv];
    const stdin = this.password === null
      ? opts.stdin
      : Buffer.concat([Buffer.from(`${this.password}\n${this.marker}\n`), Buffer.from(opts.stdin ?? '')]);
    return [sudo, { ...opts, ...(stdin !== undefined ? { stdin } : {}) }];
  }

  private unwrap(r: ExecResult): { ok: true; result: ExecResult } | { ok: false; why: string } {
    const at = r.stderr.indexOf(this.marker);
    if (at >= 0) return { ok: true, result: { ...r, stderr: r.stderr.slice(at + this.marker.length) } };
    return { ok: false, why: sudoFailure(r) };
  }

  async put(data: Buffer, remotePath: string, opts?: PutOptions): Promise<void> {
    if (!isAbsolute(remotePath)) throw new Error(`${this.host}: put needs an absolute path, got ${remotePath}`);
    const made = await this.inner.exec(['sh', '-c', TEMP]);
    const temp = made.stdout.trim();
    if (made.code !== 0 || !temp.startsWith('/')) throw new Error(`${this.host}: cannot make a temp file for the upload: ${made.stderr.trim() || `exit ${made.code}`}`);
    try {
      await this.inner.put(data, temp, opts);
      const r = await this.exec(['sh', '-c', PLACE, 'hotswap', temp, remotePath]);
      if (r.code !== 0) throw new Error(`${this.host}: cannot move the upload to ${remotePath}: ${r.stderr.trim() || `exit ${r.code}`}`);
    } catch (e) {
      // the temp file may be the login user's or, once chowned, root's
      await this.exec(['rm', '-f', '--', temp]).catch(() => this.inner.exec(['rm', '-f', '--', temp])).catch(() => undefined);
      throw e;
    }
  }

  // freeBytes is left out on purpose: an upload here goes through a temp file
  // and a move by sudo, so an apply does not start it early, beside the facts
  // (see uploadEarly in steps/copy-binary.ts), but after pre-flight.

  openTcp(address: string, port: number): Promise<Duplex> {
    return this.inner.openTcp(address, port);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

// sudo's own words, minus noise (hostname lookup warnings), on one line.
function sudoFailure(r: ExecResult): string {
  const lines = r.stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/unable to resolve host/.test(l));
  const text = lines.join('; ');
  if (r.code === 127 && /sudo.*not found|No such file/.test(r.stderr)) return 'become: sudo is not installed on the host';
  if (/a password is required/.test(text)) return 'sudo: a password is required';
  if (/not in the sudoers file|is not allowed to (run|execute)|may not run sudo/.test(text)) return `become: sudo refused: ${text}`;
  return `become: sudo failed${r.code === null ? '' : ` (exit ${r.code})`}: ${text || 'no message'}`;
}

/**
 * The login's transport as the playbook's `ssh.become` asks: wrapped in sudo
 * (the password from `become_password_env`, when set), or as it is. A
 * transport sudo refuses is closed before the error goes on.
 */
export async function becomeAsAsked(t: Transport, ssh: { become?: string; become_password_env?: string }): Promise<Transport> {
  if (ssh.become !== 'sudo') return t;
  try {
    const env = ssh.become_password_env;
    return await becomeSudo(t, { ...(env ? { passwordEnv: env } : {}), ...(env && process.env[env] !== undefined ? { password: process.env[env] } : {}) });
  } catch (e) {
    await t.close().catch(() => undefined);
    throw e;
  }
}
