// The facts client-choice.ts decides on, read from this machine before
// connecting: known_hosts lines, the type of each identity file ssh would
// offer, a Kerberos ticket cache. Nothing here connects anywhere.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { parseKnownHosts, type KnownHostEntry } from '../transport/known-hosts.js';
import type { HopFacts } from './client-choice.js';
import type { HopPlan } from './ssh-plan.js';
import { DEFAULT_KEY_FILES, SK_KEY_FILES } from '../playbook/vocabulary.js';


export interface FactsEnv {
  home: string;
  uid: number;
  /** $KRB5CCNAME */
  krb5ccname?: string;
}

/** known_hosts files as parsed, kept while they do not change (one read per run for a fleet). */
export class KnownHostsCache {
  private readonly files = new Map<string, { stamp: string; entries: KnownHostEntry[] }>();

  /** Lines of the files that exist; one that cannot be read is left to the connection to report. */
  entries(paths: readonly string[]): KnownHostEntry[] {
    return paths.flatMap((p) => this.read(p));
  }

  private read(path: string): KnownHostEntry[] {
    try {
      const st = statSync(path);
      const stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
      const hit = this.files.get(path);
      if (hit?.stamp === stamp) return hit.entries;
      const entries = parseKnownHosts(readFileSync(path, 'utf8'), path);
      this.files.set(path, { stamp, entries });
      return entries;
    } catch {
      return [];
    }
  }
}

export function hopFacts(hop: HopPlan, known: KnownHostsCache, env: FactsEnv): HopFacts {
  return {
    label: hop.label,
    lookup: { name: hop.hostKeyAlias ?? hop.address, port: hop.hostKeyAlias ? 22 : hop.port, alias: !!hop.hostKeyAlias },
    hostKeyChecking: hop.hostKeyChecking,
    knownHosts: known.entries([...hop.knownHostsFiles, ...hop.globalKnownHostsFiles]),
    identities: identityFacts(offeredFiles(hop, env.home)),
    ...(hop.pkcs11Provider ? { pkcs11Provider: hop.pkcs11Provider } : {}),
    ...(hop.gssapiAuthentication ? { gssapiAuthentication: hop.gssapiAuthentication } : {}),
    kerberosCache: kerberosCache(env),
  };
}

// Why: with no IdentityFile, ssh also tries ~/.ssh/id_ecdsa_sk and
// ~/.ssh/id_ed25519_sk; the plan lists only the defaults hotswap can use.
function offeredFiles(hop: HopPlan, home: string): string[] {
  const paths = hop.identityFiles.map((i) => i.path);
  const defaults = DEFAULT_KEY_FILES.map((k) => `${home}/.ssh/${k}`);
  const usesDefaults = hop.identityFiles.every((i) => !i.explicit) && paths.length === defaults.length && paths.every((p, i) => p === defaults[i]);
  return usesDefaults ? [...paths, ...SK_KEY_FILES.map((k) => `${home}/.ssh/${k}`)] : paths;
}

/** Each identity file that exists, its key type, and the certificate ssh would load beside it. */
export function identityFacts(paths: readonly string[]): HopFacts['identities'] {
  const out: HopFacts['identities'] = [];
  for (const path of paths) {
    if (!existsSync(path)) continue;
    const certificate = `${path}-cert.pub`;
    out.push({ path, keyType: keyTypeOf(path), ...(existsSync(certificate) ? { certificate } : {}) });
  }
  return out;
}

// Why: the type is in clear in the .pub beside the key and in OpenSSH's
// private key format (even when encrypted), so no passphrase is needed.
export function keyTypeOf(path: string): string | null {
  try {
    const pub = readFileSync(`${path}.pub`, 'utf8').trim().split(/\s+/)[0];
    if (pub) return pub;
  } catch {
    // no .pub: read the private key
  }
  try {
    return opensshKeyType(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

/** The key type in an `-----BEGIN OPENSSH PRIVATE KEY-----` file; null for other formats. */
export function opensshKeyType(pem: string): string | null {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(pem);
  if (!m) return null;
  const raw = Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  const magic = 'openssh-key-v1\0';
  if (raw.subarray(0, magic.length).toString('latin1') !== magic) return null;
  let pos = magic.length;
  const str = (): Buffer | null => {
    if (pos + 4 > raw.length) return null;
    const n = raw.readUInt32BE(pos);
    if (pos + 4 + n > raw.length) return null;
    pos += 4 + n;
    return raw.subarray(pos - n, pos);
  };
  if (!str() || !str() || !str()) return null; // cipher, kdf, kdf options
  pos += 4; // number of keys
  const pub = str();
  if (!pub || pub.length < 4) return null;
  const n = pub.readUInt32BE(0);
  return n > 0 && n <= 64 && 4 + n <= pub.length ? pub.subarray(4, 4 + n).toString('latin1') : null;
}

/** The Kerberos credential cache GSSAPI would use: $KRB5CCNAME, or MIT's default file. */
export function kerberosCache(env: FactsEnv): string | null {
  if (env.krb5ccname) return `KRB5CCNAME=${env.krb5ccname}`;
  const file = `/tmp/krb5cc_${env.uid}`;
  return existsSync(file) ? file : null;
}
