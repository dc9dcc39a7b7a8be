import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, waitForPort } from './free-port.js';
import { childrenOf, pidsWithEnv, signal, waitGone } from './processes.js';

export type Sshd = {
  port: number;
  pid: number;
  dir: string;
  /** the current user's name: the lab logs in as whoever runs it */
  user: string;
  identityFile: string;
  knownHostsFile: string;
  /** "ssh-ed25519 AAAA…" (no comment) */
  hostKeyPublic: string;
  /** what sshd wrote to stderr so far (its log, at `logLevel`) */
  output(): string;
  /** stops sshd, its connections and every process started through it (even daemons) */
  stop(): Promise<void>;
};

const SSHD = '/usr/sbin/sshd';

export type SshdOptions = {
  dir: string;
  /** default: a free port */
  port?: number;
  /** default ERROR; VERBOSE logs every key a client offers */
  logLevel?: 'ERROR' | 'INFO' | 'VERBOSE' | 'DEBUG';
  /** default true; false runs a server without the SFTP subsystem */
  sftp?: boolean;
  /** more public keys ("ssh-ed25519 AAAA…") allowed to log in, beside the lab's own */
  authorizedKeys?: string[];
  /** more sshd_config lines, e.g. `PermitOpen 127.0.0.1:2222` for a bastion */
  extraConfig?: string[];
};

// Why: transports and the upgrade flow must be tested against a real OpenSSH server,
// on loopback, with throwaway keys and without touching the system's sshd or ~/.ssh.
export async function startSshd(opts: SshdOptions): Promise<Sshd> {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: install the Debian package openssh-server (apt-get install -y openssh-server)`);
  const dir = resolve(opts.dir);
  await mkdir(dir, { recursive: true });
  await mkdir('/run/sshd', { recursive: true }); // sshd's privilege-separation directory

  const hostKey = join(dir, 'ssh_host_ed25519_key');
  const identityFile = join(dir, 'id_ed25519');
  await keygen(hostKey, 'hotswap-lab-host');
  await keygen(identityFile, 'hotswap-lab-client');
  const ownKey = (await readFile(`${identityFile}.pub`, 'utf8')).trim();
  await writeFile(join(dir, 'authorized_keys'), [ownKey, ...(opts.authorizedKeys ?? []).map((k) => k.trim())].join('\n') + '\n');
  const hostKeyPublic = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');

  const port = opts.port ?? (await freePort());
  const marker = `HOTSWAP_LAB_SSHD=${port}-${randomBytes(6).toString('hex')}`; // set in every session, found again by stop()
  const config = join(dir, 'sshd_config');
  await writeFile(config, [
    `ListenAddress 127.0.0.1:${port}`,
    `HostKey ${hostKey}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'PermitRootLogin prohibit-password',
    ...(opts.sftp === false ? [] : ['Subsystem sftp internal-sftp']),
    'MaxSessions 100',
    'MaxStartups 200',
    `LogLevel ${opts.logLevel ?? 'ERROR'}`,
    `SetEnv ${marker}`,
    ...(opts.extraConfig ?? []),
    '',
  ].join('\n'));

  // cwd "/": a foreground sshd keeps its caller's (a clone in a private home, say)
  const child = spawn(SSHD, ['-D', '-e', '-f', config], { cwd: '/', stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-256_000); });
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (e) => reject(new Error(`cannot run ${SSHD}: ${e.message}`)));
    child.once('exit', (code) => reject(new Error(`${SSHD} exited with code ${code}: ${stderr.trim()}`)));
  });
  exited.catch(() => undefined);
  const pid = child.pid!;

  const stop = async (): Promise<void> => {
    const connections = await childrenOf(pid);
    if (child.exitCode === null && child.signalCode === null) {
      signal(pid, 'SIGTERM');
      if (!(await waitGone(pid, 5_000))) signal(pid, 'SIGKILL');
    }
    // Sessions and the commands they ran outlive the listener (and a root session cannot
    // be signalled over SSH); every one carries the marker, so none is left behind.
    const left = [...connections, ...(await pidsWithEnv(marker))];
    for (const p of left) signal(p, 'SIGTERM');
    for (const p of left) if (!(await waitGone(p, 2_000))) signal(p, 'SIGKILL');
  };

  try {
    await Promise.race([waitForPort(port, 10_000), exited]);
  } catch (e) {
    await stop();
    throw e;
  }
  const knownHostsFile = join(dir, 'known_hosts');
  await writeFile(knownHostsFile, `[127.0.0.1]:${port} ${hostKeyPublic}\n`);
  return { port, pid, dir, user: userInfo().username, identityFile, knownHostsFile, hostKeyPublic, output: () => stderr, stop };
}

function keygen(file: string, comment: string): Promise<void> {
  if (existsSync(file)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    execFile('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], (err, _out, stderr) => {
      if (!err) return resolve();
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(new Error('ssh-keygen is missing: install the Debian package openssh-client (apt-get install -y openssh-client)'));
      }
      reject(new Error(`ssh-keygen -f ${file} failed: ${stderr.trim() || err.message}`));
    });
  });
}
