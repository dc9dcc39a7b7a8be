// The command lines given to the operator's own `ssh` (ssh.client: openssh).
// Only what the playbook itself decides is passed on the command line; the
// rest (HostName, ProxyCommand, Match, certificates, FIDO/PKCS#11 keys,
// GSSAPI...) is left to ssh reading the operator's own config, which is the
// point of using it. Every value is one argv word: no local shell is involved.
import type { HostKeyChecking } from '../playbook/vocabulary.js';

export type OpensshTarget = {
  /** as typed after `ssh`: the host's address, or its name */
  destination: string;
  /** the playbook's (or inventory's) explicit settings; absent ones come from the ssh config */
  user?: string;
  port?: number;
  identityFile?: string;
  /** ssh.config_file: like `ssh -F` */
  configFile?: string;
  /** ssh.proxy_jump: like `ssh -J` */
  proxyJump?: string;
  /** ssh.known_hosts: the only known_hosts file checked, as with the built-in client */
  knownHostsFile?: string;
  hostKeyChecking?: HostKeyChecking;
  connectTimeoutMs?: number;
};

const STRICT = { strict: 'yes', 'accept-new': 'accept-new', off: 'no' } as const;

/** The master connection: `ssh -M -N`, never prompting, on a control socket of ours. */
export function masterArgs(t: OpensshTarget, controlPath: string): string[] {
  const args = ['-M', '-N', '-T', '-o', `ControlPath=${configValue(controlPath, true)}`, '-o', 'ControlPersist=no', '-o', 'BatchMode=yes'];
  if (t.configFile !== undefined) args.push('-F', t.configFile);
  if (t.user !== undefined) args.push('-l', t.user);
  if (t.port !== undefined) args.push('-p', String(t.port));
  // as a config line (not -i, which ssh checks before expanding %-tokens): tried first, like -i
  if (t.identityFile !== undefined) args.push('-o', `IdentityFile=${configValue(t.identityFile, true)}`);
  if (t.proxyJump !== undefined) args.push('-J', t.proxyJump);
  if (t.knownHostsFile !== undefined) {
    args.push('-o', `UserKnownHostsFile=${configValue(t.knownHostsFile, true)}`, '-o', 'GlobalKnownHostsFile=none');
  }
  if (t.hostKeyChecking !== undefined) args.push('-o', `StrictHostKeyChecking=${STRICT[t.hostKeyChecking]}`);
  if (t.connectTimeoutMs !== undefined) args.push('-o', `ConnectTimeout=${Math.max(1, Math.ceil(t.connectTimeoutMs / 1000))}`);
  args.push('--', t.destination);
  return args;
}

/**
 * Everything else goes through the master. No config is read (-F /dev/null:
 * `Match exec` runs once, for the master, and no ForwardAgent or SendEnv of
 * the operator's applies to hotswap's commands), and a client that finds no
 * master fails (ProxyCommand false) instead of connecting on its own.
 */
export function clientArgs(controlPath: string): string[] {
  return [
    '-F', '/dev/null', '-T',
    '-o', 'ControlMaster=no', '-o', `ControlPath=${configValue(controlPath, true)}`,
    '-o', 'BatchMode=yes', '-o', 'ProxyCommand=false', '-o', 'LogLevel=ERROR',
  ];
}

/** `ssh -O exit`: asks the master to close. */
export function exitArgs(controlPath: string, destination: string): string[] {
  return [...clientArgs(controlPath), '-O', 'exit', '--', destination];
}

/**
 * A value in an `-o Key=value` argument is read as a config line: quoted when
 * it holds white space or quotes (ssh's argv_split takes \" and \\ inside
 * double quotes), and with `%` doubled where ssh expands tokens.
 */
export function configValue(value: string, tokens: boolean): string {
  const v = tokens ? value.replace(/%/g, '%%') : value;
  if (!/[\s"'\\#=]/.test(v)) return v;
  return `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
