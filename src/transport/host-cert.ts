import { createPublicKey, verify, type KeyObject } from 'node:crypto';

// OpenSSH host certificates (PROTOCOL.certkeys): parsed from the wire blob a
// server presents, and checked the way `ssh` checks them (sshkey.c
// cert_parse + sshkey_cert_check_host). Pure: no I/O.

export type HostCert = {
  /** e.g. ssh-ed25519-cert-v01@openssh.com */
  certType: string;
  /** the certified key as a plain key blob (what known_hosts lines and @revoked compare) */
  plainType: string;
  plainBlob: Buffer;
  serial: bigint;
  /** 1 = user, 2 = host */
  kind: number;
  keyId: string;
  principals: string[];
  /** seconds since the epoch; validBefore 2^64-1 means forever */
  validAfter: bigint;
  validBefore: bigint;
  criticalOptions: Buffer;
  /** the CA's public key blob */
  signatureKey: Buffer;
  /** algorithm of the CA's signature (ssh-ed25519, rsa-sha2-512, ...) */
  signatureAlgorithm: string;
  /** true when the CA's signature over the certificate verifies */
  signatureValid: boolean;
};

// OpenSSH's default CASignatureAlgorithms (9.x): SHA-1 `ssh-rsa` CA signatures are refused.
export const CA_SIGNATURE_ALGORITHMS = [
  'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com', 'rsa-sha2-512', 'rsa-sha2-256',
];

const CERT_SUFFIX = '-cert-v01@openssh.com';
// how many wire fields each key type has after its name (the public part)
const KEY_FIELDS: Record<string, number> = { 'ssh-ed25519': 1, 'ssh-rsa': 2, 'ecdsa-sha2-nistp256': 2, 'ecdsa-sha2-nistp384': 2, 'ecdsa-sha2-nistp521': 2 };

export const isCertType = (type: string) => type.endsWith(CERT_SUFFIX);

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  bytes(): Buffer {
    if (this.pos + 4 > this.buf.length) throw new Error('certificate is truncated');
    const n = this.buf.readUInt32BE(this.pos);
    if (this.pos + 4 + n > this.buf.length) throw new Error('certificate is truncated');
    const out = this.buf.subarray(this.pos + 4, this.pos + 4 + n);
    this.pos += 4 + n;
    return out;
  }
  text(): string { return this.bytes().toString('latin1'); }
  u32(): number {
    if (this.pos + 4 > this.buf.length) throw new Error('certificate is truncated');
    this.pos += 4;
    return this.buf.readUInt32BE(this.pos - 4);
  }
  u64(): bigint {
    if (this.pos + 8 > this.buf.length) throw new Error('certificate is truncated');
    this.pos += 8;
    return this.buf.readBigUInt64BE(this.pos - 8);
  }
}

function str(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/** Throws on a blob that is not a well-formed certificate of a supported key type. */
export function parseHostCert(blob: Buffer): HostCert {
  const r = new Reader(blob);
  const certType = r.text();
  if (!isCertType(certType)) throw new Error(`${certType} is not a certificate type`);
  const plainType = certType.slice(0, -CERT_SUFFIX.length);
  const fields = KEY_FIELDS[plainType];
  if (!fields) throw new Error(`unsupported certificate key type ${plainType}`);
  r.bytes(); // nonce
  const keyParts: Buffer[] = [];
  for (let i = 0; i < fields; i++) keyParts.push(r.bytes());
  const serial = r.u64();
  const kind = r.u32();
  const keyId = r.bytes().toString('utf8');
  const pr = new Reader(r.bytes());
  const principals: string[] = [];
  while (pr.pos < pr.buf.length) principals.push(pr.bytes().toString('utf8'));
  const validAfter = r.u64();
  const validBefore = r.u64();
  const criticalOptions = r.bytes();
  r.bytes(); // extensions
  r.bytes(); // reserved
  const signatureKey = r.bytes();
  const signed = blob.subarray(0, r.pos);
  const signature = r.bytes();
  if (r.pos !== blob.length) throw new Error('certificate has trailing data');
  const sr = new Reader(signature);
  const signatureAlgorithm = sr.text();
  const sigValue = sr.bytes();
  return {
    certType, plainType,
    plainBlob: Buffer.concat([str(Buffer.from(plainType, 'latin1')), ...keyParts.map(str)]),
    serial, kind, keyId, principals, validAfter, validBefore, criticalOptions, signatureKey,
    signatureAlgorithm,
    signatureValid: verifySignature(signatureKey, signatureAlgorithm, signed, sigValue),
  };
}

// Why each rule: sshkey_cert_check_host() in OpenSSH 9.2, in its order.
/** null when the certificate is good for `name` at `now` (seconds); else ssh's reason. */
export function hostCertProblem(cert: HostCert, name: string, now: number): string | null {
  if (!cert.signatureValid) return 'certificate signature does not verify';
  if (cert.kind !== 2) return 'not a host certificate';
  const t = BigInt(Math.floor(now));
  if (t < cert.validAfter) return `certificate not yet valid (valid from ${when(cert.validAfter)})`;
  if (t >= cert.validBefore) return `certificate expired (valid until ${when(cert.validBefore)})`;
  // a certificate without principals is valid for any host name (OpenSSH does not require one for hosts)
  if (cert.principals.length && !cert.principals.includes(name)) {
    return `name ${JSON.stringify(name)} is not a listed principal (${cert.principals.join(', ')})`;
  }
  if (cert.criticalOptions.length) return 'certificate contains unsupported critical options';
  if (!CA_SIGNATURE_ALGORITHMS.includes(cert.signatureAlgorithm)) {
    return `certificate signed with disallowed algorithm ${cert.signatureAlgorithm}`;
  }
  return null;
}

function when(t: bigint): string {
  return t > 253402300799n ? 'forever' : new Date(Number(t) * 1000).toISOString().replace('.000Z', 'Z');
}

/** The signature of a CA (ed25519, ecdsa or rsa) over `data`, checked with node:crypto. */
function verifySignature(keyBlob: Buffer, alg: string, data: Buffer, sig: Buffer): boolean {
  try {
    const k = new Reader(keyBlob);
    const type = k.text();
    const b64 = (b: Buffer) => b.toString('base64url');
    let key: KeyObject;
    if (type === 'ssh-ed25519') {
      if (alg !== 'ssh-ed25519') return false;
      key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64(k.bytes()) }, format: 'jwk' });
      return verify(null, data, key, sig);
    }
    if (type.startsWith('ecdsa-sha2-nistp')) {
      if (alg !== type) return false;
      const bits = Number(type.slice('ecdsa-sha2-nistp'.length));
      const size = Math.ceil(bits / 8);
      k.text(); // curve name
      const q = k.bytes();
      if (q[0] !== 4 || q.length !== 1 + 2 * size) return false;
      key = createPublicKey({ key: { kty: 'EC', crv: `P-${bits}`, x: b64(q.subarray(1, 1 + size)), y: b64(q.subarray(1 + size)) }, format: 'jwk' });
      const s = new Reader(sig);
      const fixed = (n: Buffer) => { const v = n.subarray(n.length > size ? n.length - size : 0); return Buffer.concat([Buffer.alloc(size - v.length), v]); };
      const rs = Buffer.concat([fixed(s.bytes()), fixed(s.bytes())]);
      const hash = bits === 256 ? 'sha256' : bits === 384 ? 'sha384' : 'sha512';
      return verify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, rs);
    }
    if (type === 'ssh-rsa') {
      const hash = { 'rsa-sha2-512': 'sha512', 'rsa-sha2-256': 'sha256', 'ssh-rsa': 'sha1' }[alg];
      if (!hash) return false;
      const e = k.bytes();
      const n = k.bytes();
      const unsigned = (b: Buffer) => (b[0] === 0 ? b.subarray(1) : b);
      key = createPublicKey({ key: { kty: 'RSA', n: b64(unsigned(n)), e: b64(unsigned(e)) }, format: 'jwk' });
      return verify(hash, data, key, sig);
    }
    return false;
  } catch {
    return false;
  }
}
