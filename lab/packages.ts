import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { NGINX_RUNTIME_PACKAGES } from './nginx-builds.js';

/** Debian packages the lab (tests, demo, benchmark) needs on the machine. */
export const LAB_PACKAGES = ['openssh-server', 'openssh-client', 'sudo', 'passwd', ...NGINX_RUNTIME_PACKAGES];

/**
 * What only the tests need beyond the lab: a real systemd (nspawn, debootstrap),
 * the reference tools the tests compare with (ansible-core for inventories;
 * `ssh -G` comes with openssh-client), util-linux's unshare, and shellcheck
 * for the host scripts (test/remote/shellcheck.test.ts).
 */
export const TEST_PACKAGES = [...LAB_PACKAGES, 'systemd-container', 'debootstrap', 'ansible-core', 'util-linux', 'e2fsprogs', 'shellcheck'];

export function missingPackages(packages: readonly string[]): string[] {
  return packages.filter((p) => {
    try {
      return !execFileSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes('install ok installed');
    } catch {
      return true;
    }
  });
}

// Why: a fresh machine has none of these; as root we install them from Debian
// (never starting the system's own services), otherwise we say what is missing.
/** Returns the packages it installed (none when all were there): the demo names them. */
export function ensurePackages(packages: readonly string[] = LAB_PACKAGES): string[] {
  const missing = missingPackages(packages);
  if (!missing.length) return [];
  if (userInfo().uid !== 0) {
    throw new Error(`missing Debian packages: ${missing.join(' ')}. Install them as root: apt-get install -y ${missing.join(' ')}`);
  }
  console.log(`installing from Debian: ${missing.join(' ')}`);
  const policy = '/usr/sbin/policy-rc.d';
  const hadPolicy = existsSync(policy);
  if (!hadPolicy) {
    // keeps package scripts from starting a system sshd: the lab runs its own
    writeFileSync(policy, '#!/bin/sh\nexit 101\n');
    chmodSync(policy, 0o755);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  } finally {
    if (!hadPolicy) rmSync(policy, { force: true });
  }
  return missing;
}
