import { createHash, createHmac, randomBytes } from 'node:crypto';

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

// Why: the one decision of host key checking, as a value the transport turns into
// accept, append or refuse.
export function checkHostKey(entries: KnownHostEntry[], token: string, key: HostKey): HostKeyVerdict {
  const same = (e: KnownHostEntry) => e.keyBase64 === key.base64;
  const revoked = entries.find((e) => e.marker === 'revoked' && same(e));
  if (revoked) return { status: 'revoked', entry: revoked };
  const forHost = entries.filter((e) => e.marker === null && entryMatches(e, token));
  const known = forHost.find(same);
  if (known) return { status: 'known', entry: known };
  const changed = forHost.find((e) => e.keyType === key.type);
  if (changed) return { status: 'changed', entry: changed };
  return { status: 'unknown', otherTypes: [...new Set(forHost.map((e) => e.keyType))] };
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
