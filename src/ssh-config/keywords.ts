// The keywords of OpenSSH 9.2 (Debian's build, `ssh -V` on the lab machines),
// from readconf.c, with how each value is checked. Keywords hotswap does not
// use are still checked, so a file `ssh` refuses is refused here too. Pure.

/** How a keyword's arguments are read: `ssh` refuses the line when they do not fit. */
export type Kind =
  | 'flag' | 'string' | 'int' | 'port' | 'time' | 'list' | 'command' | 'ignore'
  | 'cipher' | 'mac' | 'kex' | 'keyalg' | 'forward' | 'dynamicforward' | 'jump'
  | { states: string[] };

const YN = ['yes', 'no', 'true', 'false'];
const K: Record<string, Kind> = {
  // removed or not built: accepted (ssh only logs them)
  protocol: 'ignore', cipher: 'ignore', fallbacktorsh: 'ignore', globalknownhostsfile2: 'ignore', rhostsauthentication: 'ignore',
  userknownhostsfile2: 'ignore', useroaming: 'ignore', usersh: 'ignore', useprivilegedport: 'ignore', afstokenpassing: 'ignore',
  kerberosauthentication: 'ignore', kerberostgtpassing: 'ignore', rsaauthentication: 'ignore', rhostsrsaauthentication: 'ignore',
  compressionlevel: 'ignore',
  gssapiauthentication: 'flag', gssapidelegatecredentials: 'flag', gssapikeyexchange: 'flag', gssapitrustdns: 'flag',
  gssapirenewalforcesrekey: 'flag', gssapiclientidentity: 'string', gssapiserveridentity: 'string', gssapikexalgorithms: 'string',
  pkcs11provider: 'string', smartcarddevice: 'string',
  forwardagent: 'string', forwardx11: 'flag', forwardx11trusted: 'flag', forwardx11timeout: 'time', exitonforwardfailure: 'flag',
  xauthlocation: 'string', gatewayports: 'flag', passwordauthentication: 'flag', kbdinteractiveauthentication: 'flag',
  kbdinteractivedevices: 'string', challengeresponseauthentication: 'flag', skeyauthentication: 'flag', tisauthentication: 'flag',
  pubkeyauthentication: { states: [...YN, 'unbound', 'host-bound'] }, dsaauthentication: { states: [...YN, 'unbound', 'host-bound'] },
  hostbasedauthentication: 'flag', identityfile: 'string', identityfile2: 'string', identitiesonly: 'flag', certificatefile: 'string',
  addkeystoagent: 'string', identityagent: 'string', hostname: 'string', hostkeyalias: 'string', proxycommand: 'command',
  port: 'port', ciphers: 'cipher', macs: 'mac', remoteforward: 'forward', localforward: 'forward', permitremoteopen: 'list',
  user: 'string', escapechar: 'string', globalknownhostsfile: 'list', userknownhostsfile: 'list', connectionattempts: 'int',
  batchmode: 'flag', checkhostip: 'flag', stricthostkeychecking: { states: [...YN, 'ask', 'off', 'accept-new'] },
  compression: { states: YN }, tcpkeepalive: 'flag', keepalive: 'flag', numberofpasswordprompts: 'int',
  syslogfacility: { states: ['daemon', 'user', 'auth', 'authpriv', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'] },
  loglevel: { states: ['quiet', 'fatal', 'error', 'info', 'verbose', 'debug', 'debug1', 'debug2', 'debug3'] },
  logverbose: 'list', dynamicforward: 'dynamicforward', preferredauthentications: 'string', hostkeyalgorithms: 'keyalg',
  casignaturealgorithms: 'keyalg', bindaddress: 'string', bindinterface: 'string', clearallforwardings: 'flag',
  enablesshkeysign: 'flag', verifyhostkeydns: { states: [...YN, 'ask'] }, nohostauthenticationforlocalhost: 'flag',
  rekeylimit: 'list', connecttimeout: 'time', addressfamily: { states: ['inet', 'inet6', 'any'] }, serveraliveinterval: 'time',
  serveralivecountmax: 'int', sendenv: 'list', setenv: 'list', controlpath: 'string',
  controlmaster: { states: [...YN, 'auto', 'ask', 'autoask'] }, controlpersist: 'string', hashknownhosts: 'flag',
  tunnel: { states: [...YN, 'point-to-point', 'ethernet'] }, tunneldevice: 'string', localcommand: 'command',
  permitlocalcommand: 'flag', remotecommand: 'command', visualhostkey: 'flag', kexalgorithms: 'kex', ipqos: 'list',
  requesttty: { states: [...YN, 'force', 'auto'] }, sessiontype: { states: ['none', 'subsystem', 'default'] }, stdinnull: 'flag',
  forkafterauthentication: 'flag', proxyusefdpass: 'flag', canonicaldomains: 'list', canonicalizefallbacklocal: 'flag',
  canonicalizehostname: { states: [...YN, 'always'] }, canonicalizemaxdots: 'int', canonicalizepermittedcnames: 'list',
  streamlocalbindmask: 'string', streamlocalbindunlink: 'flag', revokedhostkeys: 'string',
  fingerprinthash: { states: ['md5', 'sha256'] }, updatehostkeys: { states: [...YN, 'ask'] },
  hostbasedacceptedalgorithms: 'keyalg', hostbasedkeytypes: 'keyalg', pubkeyacceptedalgorithms: 'keyalg',
  pubkeyacceptedkeytypes: 'keyalg', ignoreunknown: 'string', proxyjump: 'jump', securitykeyprovider: 'string',
  knownhostscommand: 'command', requiredrsasize: 'int', enableescapecommandline: 'flag',
};

/** null for a keyword this ssh does not know (an error unless IgnoreUnknown matches it). Host, Match, Include are handled apart. */
export function keywordKind(keyword: string): Kind | null {
  return Object.prototype.hasOwnProperty.call(K, keyword) ? K[keyword]! : null;
}

export const KNOWN_KEYWORDS: readonly string[] = [...Object.keys(K), 'host', 'match', 'include'];

// `ssh -Q cipher|mac|kex|key-sig` of OpenSSH 9.2p1 (Debian 12)
const CIPHERS = '3des-cbc aes128-cbc aes192-cbc aes256-cbc aes128-ctr aes192-ctr aes256-ctr aes128-gcm@openssh.com aes256-gcm@openssh.com chacha20-poly1305@openssh.com'.split(' ');
const MACS = 'hmac-sha1 hmac-sha1-96 hmac-sha2-256 hmac-sha2-512 hmac-md5 hmac-md5-96 umac-64@openssh.com umac-128@openssh.com hmac-sha1-etm@openssh.com hmac-sha1-96-etm@openssh.com hmac-sha2-256-etm@openssh.com hmac-sha2-512-etm@openssh.com hmac-md5-etm@openssh.com hmac-md5-96-etm@openssh.com umac-64-etm@openssh.com umac-128-etm@openssh.com'.split(' ');
const KEX = 'diffie-hellman-group1-sha1 diffie-hellman-group14-sha1 diffie-hellman-group14-sha256 diffie-hellman-group16-sha512 diffie-hellman-group18-sha512 diffie-hellman-group-exchange-sha1 diffie-hellman-group-exchange-sha256 ecdh-sha2-nistp256 ecdh-sha2-nistp384 ecdh-sha2-nistp521 curve25519-sha256 curve25519-sha256@libssh.org sntrup761x25519-sha512 sntrup761x25519-sha512@openssh.com'.split(' ');
const KEYALGS = 'ssh-ed25519 ssh-ed25519-cert-v01@openssh.com sk-ssh-ed25519@openssh.com sk-ssh-ed25519-cert-v01@openssh.com ecdsa-sha2-nistp256 ecdsa-sha2-nistp256-cert-v01@openssh.com ecdsa-sha2-nistp384 ecdsa-sha2-nistp384-cert-v01@openssh.com ecdsa-sha2-nistp521 ecdsa-sha2-nistp521-cert-v01@openssh.com sk-ecdsa-sha2-nistp256@openssh.com sk-ecdsa-sha2-nistp256-cert-v01@openssh.com webauthn-sk-ecdsa-sha2-nistp256@openssh.com ssh-dss ssh-dss-cert-v01@openssh.com ssh-rsa ssh-rsa-cert-v01@openssh.com rsa-sha2-256 rsa-sha2-256-cert-v01@openssh.com rsa-sha2-512 rsa-sha2-512-cert-v01@openssh.com'.split(' ');

const SINGLE = new Set<Kind>(['flag', 'string', 'int', 'port', 'time', 'cipher', 'mac', 'kex', 'keyalg', 'dynamicforward']);

/**
 * Checks a line's arguments as ssh does; returns why ssh refuses it, or null.
 * `services` maps /etc/services names to ports (ssh takes `Port ssh`).
 */
export function checkValue(keyword: string, kind: Kind, args: string[], env: NodeJS.ProcessEnv, services: (name: string) => number | undefined): string | null {
  if (kind === 'ignore' || kind === 'command' || kind === 'jump') return null;
  const v = args[0];
  if (v === undefined || v === '') return 'missing argument';
  if (typeof kind === 'object') {
    if (!kind.states.includes(v.toLowerCase())) return `unsupported ${keyword} value "${v}"`;
  } else if (kind === 'flag') {
    if (!YN.includes(v.toLowerCase())) return `unsupported ${keyword} value "${v}"`;
  } else if (kind === 'int') {
    if (!/^-?[0-9]+$/.test(v) || Number(v) > 2 ** 31 - 1 || Number(v) < -(2 ** 31)) return `invalid number "${v}"`;
  } else if (kind === 'port') {
    if (a2port(v, services) <= 0) return `Bad port '${v}'`;
  } else if (kind === 'time') {
    if (v !== 'none' && convtime(v) < 0) return 'invalid time value';
  } else if (kind === 'cipher' || kind === 'mac' || kind === 'kex') {
    const names = kind === 'cipher' ? CIPHERS : kind === 'mac' ? MACS : KEX;
    const list = v.startsWith('+') || v.startsWith('^') ? v.slice(1) : v;
    if (!v.startsWith('-') && (list === '' || !list.split(',').every((n) => names.includes(n)))) return `Bad SSH2 ${keyword === 'ciphers' ? 'cipher spec' : keyword === 'macs' ? 'MAC spec' : 'KexAlgorithms'} '${v}'`;
  } else if (kind === 'keyalg') {
    const list = v.startsWith('+') || v.startsWith('^') ? v.slice(1) : v;
    const known = (n: string) => KEYALGS.includes(n) || (/[*?]/.test(n) && KEYALGS.some((k) => globMatch(n, k)));
    if (!v.startsWith('-') && (list === '' || !list.split(',').every(known))) return `Bad key types '${v}'`;
  } else if (kind === 'forward' || kind === 'dynamicforward') {
    const remote = keyword === 'remoteforward';
    const dynamic = kind === 'dynamicforward' || (remote && args.length < 2);
    if (!dynamic && args.length < 2) return 'Missing target argument';
    if (!parseForward(dynamic ? v : `${v}:${args[1]}`, dynamic, remote, env)) return 'Bad forwarding specification';
    if (args.length > (dynamic ? 1 : 2)) return `keyword ${keyword} extra arguments at end of line`;
    return null;
  }
  if (SINGLE.has(kind) && args.length > 1) return `keyword ${keyword} extra arguments at end of line`;
  return null;
}

/** misc.c convtime: `90`, `1h30m`, units s m h d w; -1 when invalid. */
export function convtime(s: string): number {
  if (s === '') return -1;
  let total = 0;
  const re = /([0-9]+)([sSmMhHdDwW]?)/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < s.length && (m = re.exec(s))) {
    const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2]!.toLowerCase()]!;
    total += Number(m[1]) * unit;
    at = re.lastIndex;
    if (m[2] === '' && at < s.length) return -1;
  }
  return at === s.length && total <= 2 ** 31 - 1 ? total : -1;
}

/** misc.c a2port: 0-65535 or a tcp service name; -1 when neither. */
export function a2port(s: string, services: (name: string) => number | undefined): number {
  if (/^[0-9]+$/.test(s)) return Number(s) <= 65535 ? Number(s) : -1;
  return services(s) ?? -1;
}

function globMatch(pattern: string, s: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's').test(s);
}

/** misc.c dollar_expand: `${VAR}` from the environment; null when a variable is unset or a brace is open. */
export function dollarExpand(s: string, env: NodeJS.ProcessEnv): string | null {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '$' && s[i + 1] === '{') {
      const end = s.indexOf('}', i + 2);
      if (end < 0) return null;
      const v = env[s.slice(i + 2, end)];
      if (v === undefined) return null;
      out += v;
      i = end;
    } else out += s[i];
  }
  return out;
}

// readconf.c parse_forward: [bind:]port:host:hostport, unix socket paths, [brackets].
function parseForward(spec: string, dynamic: boolean, remote: boolean, env: NodeJS.ProcessEnv): boolean {
  const text = dollarExpand(spec, env);
  if (text === null) return false;
  let cp: string | null = text.replace(/^\s+/, '');
  const fields: Array<{ arg: string; path: boolean }> = [];
  while (fields.length < 4 && cp !== null && cp !== '') {
    if (cp.startsWith('[')) {
      const end = cp.indexOf(']');
      if (end < 0 || (cp[end + 1] !== ':' && cp[end + 1] !== undefined)) break;
      fields.push({ arg: cp.slice(1, end), path: cp.slice(1, end).includes('/') });
      cp = cp.slice(end + 2);
      continue;
    }
    let arg = '';
    let path = false;
    let i = 0;
    let bad = false;
    for (; i < cp.length; i++) {
      const c = cp[i]!;
      if (c === '\\') { if (i + 1 >= cp.length) { bad = true; break; } arg += cp[++i]; if (cp[i] === '/') path = true; continue; }
      if (c === ':') break;
      if (c === '/') path = true;
      arg += c;
    }
    if (bad) break;
    fields.push({ arg, path });
    cp = i < cp.length ? cp.slice(i + 1) : '';
  }
  if (cp !== null && cp !== '') return false;
  const port = (s: string) => a2port(s, () => undefined);
  const f = fields;
  let listenPort = -1, listenPath = false, connectPort = 0, connectPath = false;
  switch (f.length) {
    case 1: if (f[0]!.path) listenPath = true; else listenPort = port(f[0]!.arg); break;
    case 2:
      if (f[0]!.path && f[1]!.path) { listenPath = true; connectPath = true; }
      else if (f[1]!.path) { listenPort = port(f[0]!.arg); connectPath = true; }
      else listenPort = port(f[1]!.arg);
      break;
    case 3:
      if (f[0]!.path) { listenPath = true; connectPort = port(f[2]!.arg); }
      else if (f[2]!.path) { listenPort = port(f[1]!.arg); connectPath = true; }
      else { listenPort = port(f[0]!.arg); connectPort = port(f[2]!.arg); }
      break;
    case 4: listenPort = port(f[1]!.arg); connectPort = port(f[3]!.arg); break;
    default: return false;
  }
  if (dynamic) {
    if (f.length !== 1 && f.length !== 2) return false;
  } else {
    if (f.length !== 3 && f.length !== 4 && !connectPath && !listenPath) return false;
    if (connectPort <= 0 && !connectPath) return false;
  }
  if ((listenPort < 0 && !listenPath) || (!remote && listenPort === 0 && !listenPath)) return false;
  return true;
}
