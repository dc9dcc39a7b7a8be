import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CANONICAL_STEPS } from '../../lab/fleet.js';

export const run = promisify(execFile);

/** A temp directory other users can enter (sshd reads authorized_keys as the login user). */
export async function openTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  return dir;
}

/** A fresh ed25519 public key as `type base64`: "someone else's" host key. */
export function otherKey(): string {
  const x = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(v); return b; };
  const str = (b: Buffer) => Buffer.concat([u32(b.length), b]);
  return `ssh-ed25519 ${Buffer.concat([str(Buffer.from('ssh-ed25519')), str(x)]).toString('base64')}`;
}

/** ssh-keygen an ed25519 key (with a passphrase when given); returns its public line. */
export async function keygen(file: string, passphrase = ''): Promise<string> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'hotswap-test', '-f', file]);
  return (await readFile(`${file}.pub`, 'utf8')).trim();
}

/** `SHA256:…` of a public key file, as ssh-keygen -l prints it. */
export async function fingerprintOf(pubFile: string): Promise<string> {
  return (await run('ssh-keygen', ['-lf', pubFile])).stdout.split(' ')[1]!;
}

export interface PlaybookSpec {
  build: string;
  /** YAML flow items for `hosts:` */
  hosts: string[];
  /** the `ssh:` block; undefined values are left out */
  ssh: Record<string, string | undefined>;
  steps?: string;
}

/** One host item: a lab nginx host reached as the playbook says. */
export function hostItem(name: string, nginx: { root: string; port: number }, extra: Record<string, string | number> = {}): string {
  const fields = Object.entries(extra).map(([k, v]) => `, ${k}: ${JSON.stringify(v)}`).join('');
  return `{ name: ${name}${fields}, vars: { prefix: ${JSON.stringify(nginx.root)}, http_port: ${nginx.port} } }`;
}

export function playbookText(p: PlaybookSpec): string {
  const ssh = Object.entries(p.ssh).filter(([, v]) => v !== undefined).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join('\n');
  return `version: 1
name: ssh test upgrade
vars:
  build: ${JSON.stringify(p.build)}
hosts:
${p.hosts.map((h) => `  - ${h}`).join('\n')}
ssh:
${ssh}
nginx:
  prefix: "{{ prefix }}"
steps:
${p.steps ?? CANONICAL_STEPS}`;
}

export async function writePlaybook(file: string, p: PlaybookSpec): Promise<string> {
  await writeFile(file, playbookText(p));
  return file;
}

/** Waits (bounded) until `f` holds: logs are written a moment after the fact. */
export async function eventually(what: string, f: () => boolean | Promise<boolean>, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
