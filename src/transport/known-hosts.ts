import { createHash, createHmac, randomBytes } from 'node:crypto';
import { hostCertProblem, isCertType, parseHostCert, type HostCert } from './host-cert.js';

// OpenSSH known_hosts, read the way `ssh` reads it. Pure functions: no I/O here.

export type KnownHostEntry = {
  file: string;
  /** 1-based line number */
  line: number;
  marker: 'revoked' | 'cert-authority' | null;
  /** comma-separated patterns (`host`, `[host]:port`, `*.example.com`, `!bad`), or null when hashed */
  patterns: string[] | null;
  /** `|1|salt|hash` entries: HMAC-SHA1 of the host token keyed by the salt */
  hashed: { salt: Buffer; hash: Buffer } | null;
  keyType: string;
  /** the key blob as base64, exactly as written */
  keyBase64: string;
};

export type HostKey = { type: string; base64: string };

export type HostKeyVerdict =
  | { status: 'known'; entry: KnownHostEntry }
  | { status: 'unknown'; otherTypes: string[] }
  | { status: 'changed'; entry: KnownHostEntry }
  | { status: 'revoked'; entry: KnownHostEntry };

// Why: bad or foreign lines must not stop the check; OpenSSH skips them too.
export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === '' || fields[0]!.startsWith('#')) return;
    let marker: KnownHostEntry['marker'] = null;
    if (fields[0]!.startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else return;
    }
    const [hosts, keyType, keyBase64] = fields;
    if (!hosts || !keyType || !keyBase64 || !/^[A-Za-z0-9+/]+=*$/.test(keyBase64)) return;
    let hashed: KnownHostEntry['hashed'] = null;
    if (hosts.startsWith('|')) {
      const m = /^\|1\|([A-Za-z0-9+/=]+)\|([A-Za-z0-9+/=]+)$/.exec(hosts);
      if (!m) return;
      hashed = { salt: Buffer.from(m[1]!, 'base64'), hash: Buffer.from(m[2]!, 'base64') };
    }
    entries.push({
      file, line: i + 1, marker, keyType, keyBase64,
      patterns: hashed ? null : hosts.split(',').filter(Boolean), hashed,
    });
  });
  return entries;
}

// Why: OpenSSH names a host `addr` on port 22 and `[addr]:port` elsewhere; both the
// lookup and the line accept-new appends must use that exact form.
export function hostToken(address: string, port: number): string {
  const a = address.toLowerCase();
  return port === 22 ? a : `[${a}]:${port}`;
}

// Why: a line matches a host by a plain or wildcard pattern (a negated one vetoes the
// line) or, for hashed lines, by recomputing the HMAC.
export function entryMatches(entry: KnownHostEntry, token: string): boolean {
  if (entry.hashed) {
    const h = createHmac('sha1', entry.hashed.salt).update(token).digest();
    return h.length === entry.hashed.hash.length && h.equals(entry.hashed.hash);
  }
  let hit = false;
  for (const p of entry.patterns ?? []) {
    const negated = p.startsWith('!');
    if (!globMatch(negated ? p.slice(1) : p, token)) continue;
    if (negated) return false;
    hit = true;
  }
  return hit;
}

function globMatch(pattern: string, text: string): boolean {
  const re = pattern.toLowerCase().replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(text);
}

// Why: the one decision of host key checking for a plain key and one host token,
// as `ssh` makes it (hostfile.c check_hostkeys_by_key_or_type): a @revoked line
// counts only for the hosts its patterns match.
export function checkHostKey(entries: KnownHostEntry[], token: string, key: HostKey): HostKeyVerdict {
  const forHost = entries.filter((e) => entryMatches(e, token));
  const same = (e: KnownHostEntry) => e.keyBase64 === key.base64;
  const revoked = forHost.find((e) => e.marker === 'revoked' && same(e));
  if (revoked) return { status: 'revoked', entry: revoked };
  const plain = forHost.filter((e) => e.marker === null);
  const known = plain.find(same);
  if (known) return { status: 'known', entry: known };
  const changed = plain.find((e) => e.keyType === key.type);
  if (changed) return { status: 'changed', entry: changed };
  return { status: 'unknown', otherTypes: [...new Set(plain.map((e) => e.keyType))] };
}

/** Who is being checked: the name ssh looks up (HostName or HostKeyAlias) and the port. */
export type HostLookup = { name: string; port: number; alias: boolean };

export type HostKeyCheck = {
  /** the plain key (a certificate's certified key): what is shown and what accept-new records */
  key: HostKey;
  /** set when the server presented a certificate */
  cert: HostCert | null;
  verdict: HostKeyVerdict;
  /** why a presented certificate was not accepted (then the plain key was checked) */
  certProblem?: string;
  /** accepted through the port-less entry, as ssh's "found matching key w/out port" */
  portless?: boolean;
};

// Why: the whole of ssh's check_host_key for a presented key or certificate
// (sshconnect.c, OpenSSH 9.2): a certificate is accepted through a matching
// @cert-authority line when it is valid for the name; otherwise ssh drops the
// certificate and checks the plain key. For a non-22 port without
// HostKeyAlias, a key unknown as [host]:port is looked up as plain `host`
// ("found matching key w/out port"); a changed key never falls back.
export function verifyHostKey(entries: KnownHostEntry[], host: HostLookup, blob: Buffer, now = Date.now() / 1000): HostKeyCheck {
  const presented = keyFromBlob(blob);
  const cert = isCertType(presented.type) ? parseHostCert(blob) : null;
  const key = cert ? { type: cert.plainType, base64: cert.plainBlob.toString('base64') } : presented;
  const name = host.name.toLowerCase();
  const token = hostToken(name, host.alias ? 22 : host.port);
  const fallback = !host.alias && host.port !== 22 ? hostToken(name, 22) : null;
  const out: HostKeyCheck = { key, cert, verdict: { status: 'unknown', otherTypes: [] } };
  const attempt = (tok: string, withCert: boolean, mayFallBack: boolean): HostKeyVerdict => {
    let v: HostKeyVerdict | 'cert-invalid';
    if (withCert) {
      v = checkCert(entries, tok, cert!, name, now, out);
    } else {
      v = checkHostKey(entries, tok, key);
    }
    if (v !== 'cert-invalid' && (v.status === 'known' || v.status === 'revoked')) return v;
    if (v !== 'cert-invalid' && v.status === 'unknown' && mayFallBack && fallback) {
      const q = attempt(fallback, withCert, false);
      if (q.status === 'known') return (out.portless = true), q;
      // stricter than ssh, safely: a key revoked for the port-less name is refused here too
      if (q.status === 'revoked') return q;
    }
    if (withCert) return attempt(tok, false, mayFallBack);
    return v as HostKeyVerdict;
  };
  out.verdict = attempt(token, cert !== null, true);
  return out;
}

/** A certificate against one host token: revoked (its key or its CA), accepted through a CA, or not. */
function checkCert(entries: KnownHostEntry[], token: string, cert: HostCert, name: string, now: number, out: HostKeyCheck): HostKeyVerdict | 'cert-invalid' {
  const forHost = entries.filter((e) => entryMatches(e, token));
  const plain = cert.plainBlob.toString('base64');
  const ca = cert.signatureKey.toString('base64');
  const revoked = forHost.find((e) => e.marker === 'revoked' && (e.keyBase64 === plain || e.keyBase64 === ca));
  if (revoked) return { status: 'revoked', entry: revoked };
  const authority = forHost.find((e) => e.marker === 'cert-authority' && e.keyBase64 === ca);
  if (!authority) {
    out.certProblem ??= `its CA is not listed as @cert-authority for ${token}`;
    return { status: 'unknown', otherTypes: [] };
  }
  const problem = hostCertProblem(cert, name, now);
  if (!problem) return { status: 'known', entry: authority };
  out.certProblem = `${problem} (CA from ${authority.file}:${authority.line})`;
  return 'cert-invalid';
}

// Why: the server sends its key as an SSH wire blob; its first field names the type.
export function keyFromBlob(blob: Buffer): HostKey {
  if (blob.length < 4) throw new Error('host key blob too short');
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) throw new Error('host key blob has no valid type');
  return { type: blob.subarray(4, 4 + len).toString('latin1'), base64: blob.toString('base64') };
}

// Why: users compare keys by the fingerprint `ssh` prints: SHA256, base64, no padding.
export function fingerprint(key: HostKey): string {
  return 'SHA256:' + createHash('sha256').update(Buffer.from(key.base64, 'base64')).digest('base64').replace(/=+$/, '');
}

/** The line accept-new appends, in OpenSSH's own format. */
export function formatEntry(token: string, key: HostKey): string {
  return `${token} ${key.type} ${key.base64}`;
}

// Why: with HashKnownHosts yes, `ssh` records `|1|salt|HMAC-SHA1(salt, token)` so
// the file does not list the hosts; accept-new must write the same.
export function formatHashedEntry(token: string, key: HostKey, salt = randomBytes(20)): string {
  const hash = createHmac('sha1', salt).update(token).digest();
  return `|1|${salt.toString('base64')}|${hash.toString('base64')} ${key.type} ${key.base64}`;
}

const ALGORITHMS_BY_KEY_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};
const DEFAULT_ALGORITHMS = Object.values(ALGORITHMS_BY_KEY_TYPE).flat();

// Why: like `ssh`, ask first for the key types already recorded for this host, so a
// server with several host keys presents the one we can check instead of a "new" one.
export function hostKeyAlgorithms(knownTypes: readonly string[]): string[] {
  const first = knownTypes.flatMap((t) => ALGORITHMS_BY_KEY_TYPE[t] ?? []);
  return [...new Set([...first, ...DEFAULT_ALGORITHMS])];
}

/** Key types recorded for a host (plain entries only; used to order algorithms). */
export function knownTypesFor(entries: KnownHostEntry[], token: string): string[] {
  return [...new Set(entries.filter((e) => e.marker === null && entryMatches(e, token)).map((e) => e.keyType))];
}
