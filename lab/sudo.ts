import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { ensurePackages } from './packages.js';

const run = promisify(execFile);
const SUDO = '/usr/bin/sudo';
const SUDOERS_D = '/etc/sudoers.d';

// Why: `become: sudo` must be tested against the real sudo; on a machine without
// it (a fresh CI image) the Debian package is installed, or the error names it.
export function ensureSudo(): void {
  ensurePackages(['sudo']);
  if (!existsSync(SUDO) || !existsSync('/usr/sbin/visudo')) throw new Error(`${SUDO} is missing: install the Debian package sudo (apt-get install -y sudo)`);
}

export interface SudoGrant {
  file: string;
  /** removes the drop-in: the user has no sudo rights from the lab any more */
  revoke(): Promise<void>;
}

// Why: the sudo login of the tests is a real sudoers rule, written as a drop-in
// checked by visudo and removed by the test that made it.
export async function grantSudo(user: string, opts: { password: boolean }): Promise<SudoGrant> {
  if (!/^[a-z_][a-z0-9_-]*$/.test(user)) throw new Error(`not a plain user name: ${user}`);
  await mkdir(SUDOERS_D, { recursive: true });
  const file = `${SUDOERS_D}/hotswap-lab-${user}`;
  const temp = `${file}.tmp`; // visudo skips names with a dot, so it is never read half-written
  const rule = `# written by hotswap lab/sudo.ts; removed when the test ends\n${user} ALL=(ALL:ALL) ${opts.password ? '' : 'NOPASSWD: '}ALL\nDefaults:${user} !lecture\n`;
  await writeFile(temp, rule, { mode: 0o440 });
  await chmod(temp, 0o440);
  try {
    await run('visudo', ['-c', '-q', '-f', temp]);
  } catch (e) {
    await rm(temp, { force: true });
    throw new Error(`visudo refuses the lab's sudoers rule: ${(e as Error).message.split('\n')[0]}`);
  }
  await rename(temp, file);
  return { file, revoke: () => rm(file, { force: true }) };
}

/** Sets a user's login password (for sudo to ask); the value never goes on a command line. */
export async function setPassword(user: string, password: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('chpasswd', [], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`chpasswd failed for ${user}: ${err.trim()}`))));
    child.stdin.end(`${user}:${password}\n`);
  });
}

/** Back to "no password" ("*"): key logins only, as the lab users are made. */
export async function clearPassword(user: string): Promise<void> {
  await run('usermod', ['-p', '*', user]);
}
