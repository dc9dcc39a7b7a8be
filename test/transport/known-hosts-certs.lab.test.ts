import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startSshd, type Sshd } from '../../lab/sshd.js';
import { parseHostCert } from '../../src/transport/host-cert.js';
import { parseKnownHosts, verifyHostKey } from '../../src/transport/known-hosts.js';

const run = promisify(execFile);

// The oracle is `ssh` itself: each case gives ssh and hotswap the same
// known_hosts and the same key or certificate presented by a real sshd, and
// both must accept or both refuse.
describe('known_hosts: host certificates, @revoked scope, port-less lookup (against ssh)', function () {
  this.timeout(120_000);
  let dir: string;
  const servers = new Map<string, { sshd: Sshd; blob: Buffer }>();
  let ca: string; // "ssh-ed25519 AAAA…" of the trusted CA
  let otherCa: string;
  let rsaCa: string;

  const keygen = (args: string[]) => run('ssh-keygen', ['-q', ...args]).catch((e: Error) => {
    throw new Error(`ssh-keygen ${args.join(' ')} failed (install openssh-client): ${e.message}`);
  });
  const pub = async (file: string) => (await readFile(file, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');

  // one sshd per certificate: sshd reads HostCertificate once, at start
  const serve = async (name: string, sign: string[] | null) => {
    const d = join(dir, name);
    await run('mkdir', ['-p', d]);
    const key = join(d, 'ssh_host_ed25519_key');
    await keygen(['-t', 'ed25519', '-N', '', '-C', name, '-f', key]);
    const extra: string[] = [];
    if (sign) {
      await keygen(['-h', '-I', name, ...sign, `${key}.pub`]);
      extra.push(`HostCertificate ${key}-cert.pub`);
    }
    const sshd = await startSshd({ dir: d, extraConfig: extra });
    const presented = sign ? `${key}-cert.pub` : `${key}.pub`;
    servers.set(name, { sshd, blob: Buffer.from((await readFile(presented, 'utf8')).split(/\s+/)[1]!, 'base64') });
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hotswap-certs-'));
    for (const n of ['ca', 'other-ca']) await keygen(['-t', 'ed25519', '-N', '', '-C', n, '-f', join(dir, n)]);
    await keygen(['-t', 'rsa', '-b', '2048', '-N', '', '-C', 'rsa-ca', '-f', join(dir, 'rsa-ca')]);
    [ca, otherCa, rsaCa] = await Promise.all(['ca', 'other-ca', 'rsa-ca'].map((n) => pub(join(dir, `${n}.pub`))));
    const by = (n: string) => ['-s', join(dir, n)];
    await Promise.all([
      serve('valid', [...by('ca'), '-n', '127.0.0.1,edge.example', '-V', '-1h:+1h']),
      serve('no-principals', [...by('ca'), '-V', '-1h:+1h']),
      serve('wrong-principal', [...by('ca'), '-n', 'edge.example', '-V', '-1h:+1h']),
      serve('expired', [...by('ca'), '-n', '127.0.0.1', '-V', '-2h:-1h']),
      serve('not-yet-valid', [...by('ca'), '-n', '127.0.0.1', '-V', '+1h:+2h']),
      serve('rsa-sha512', [...by('rsa-ca'), '-n', '127.0.0.1', '-V', '-1h:+1h']),
      serve('rsa-sha1', [...by('rsa-ca'), '-t', 'ssh-rsa', '-n', '127.0.0.1', '-V', '-1h:+1h']),
      serve('plain', null),
    ]);
  });
  after(async () => {
    await Promise.all([...servers.values()].map((s) => s.sshd.stop()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  // ssh's own verdict: exit 0 means the host key was accepted and we logged in
  async function sshAccepts(server: string, knownHosts: string, cert: boolean): Promise<boolean> {
    const { sshd } = servers.get(server)!;
    const file = join(dir, `kh-${Math.random().toString(36).slice(2)}`);
    await writeFile(file, knownHosts);
    const args = [
      '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${file}`,
      '-o', 'GlobalKnownHostsFile=/dev/null', '-o', `HostKeyAlgorithms=${cert ? 'ssh-ed25519-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com' : 'ssh-ed25519'}`,
      '-o', 'IdentitiesOnly=yes', '-i', sshd.identityFile, '-p', String(sshd.port), `${sshd.user}@127.0.0.1`, 'true',
    ];
    try {
      await run('ssh', args, { timeout: 20_000 });
      return true;
    } catch (e) {
      const err = e as { code?: unknown; stderr?: string };
      if (err.code === 'ENOENT') throw new Error('ssh is missing: install the Debian package openssh-client');
      if (!/Host key verification failed|host key for .* was revoked|REVOKED|No .* host key is known/i.test(err.stderr ?? '')) {
        throw new Error(`ssh failed for another reason than the host key: ${err.stderr}`);
      }
      return false;
    }
  }

  function hotswapAccepts(server: string, knownHosts: string): boolean {
    const { sshd, blob } = servers.get(server)!;
    const check = verifyHostKey(parseKnownHosts(knownHosts, 'kh'), { name: '127.0.0.1', port: sshd.port, alias: false }, blob);
    return check.verdict.status === 'known';
  }

  const hostKey = (server: string) => servers.get(server)!.sshd.hostKeyPublic;
  const port = (server: string) => servers.get(server)!.sshd.port;

  type Case = { name: string; server: string; kh: () => string; cert: boolean; accept: boolean };
  const cases: Case[] = [
    { name: 'valid certificate, CA for *', server: 'valid', cert: true, kh: () => `@cert-authority * ${ca}\n`, accept: true },
    { name: 'valid certificate, CA for [127.0.0.1]:port', server: 'valid', cert: true, kh: () => `@cert-authority [127.0.0.1]:${port('valid')} ${ca}\n`, accept: true },
    { name: 'certificate without principals (valid for any name)', server: 'no-principals', cert: true, kh: () => `@cert-authority * ${ca}\n`, accept: true },
    { name: 'wrong principal', server: 'wrong-principal', cert: true, kh: () => `@cert-authority * ${ca}\n`, accept: false },
    { name: 'expired', server: 'expired', cert: true, kh: () => `@cert-authority * ${ca}\n`, accept: false },
    { name: 'not yet valid', server: 'not-yet-valid', cert: true, kh: () => `@cert-authority * ${ca}\n`, accept: false },
    { name: 'CA not trusted', server: 'valid', cert: true, kh: () => `@cert-authority * ${otherCa}\n`, accept: false },
    { name: 'CA listed as a plain key, not @cert-authority', server: 'valid', cert: true, kh: () => `* ${ca}\n`, accept: false },
    { name: 'CA under a pattern that does not match', server: 'valid', cert: true, kh: () => `@cert-authority *.example ${ca}\n`, accept: false },
    { name: 'CA whose negated pattern names only the port-less host', server: 'valid', cert: true, kh: () => `@cert-authority *,!127.0.0.1 ${ca}\n`, accept: true },
    { name: 'CA under a negated pattern covering both names', server: 'valid', cert: true, kh: () => `@cert-authority *,!*127.0.0.1* ${ca}\n`, accept: false },
    { name: '@revoked CA', server: 'valid', cert: true, kh: () => `@cert-authority * ${ca}\n@revoked * ${ca}\n`, accept: false },
    { name: '@revoked CA under a non-matching pattern', server: 'valid', cert: true, kh: () => `@cert-authority * ${ca}\n@revoked *.example ${ca}\n`, accept: true },
    { name: '@revoked certified key', server: 'valid', cert: true, kh: () => `@cert-authority * ${ca}\n@revoked * ${hostKey('valid')}\n`, accept: false },
    { name: 'RSA CA, rsa-sha2-512 signature', server: 'rsa-sha512', cert: true, kh: () => `@cert-authority * ${rsaCa}\n`, accept: true },
    { name: 'RSA CA, ssh-rsa (SHA-1) signature: algorithm not allowed', server: 'rsa-sha1', cert: true, kh: () => `@cert-authority * ${rsaCa}\n`, accept: false },
    { name: 'bad certificate, plain key known: falls back to the key', server: 'expired', cert: true, kh: () => `@cert-authority * ${ca}\n[127.0.0.1]:${port('expired')} ${hostKey('expired')}\n`, accept: true },
    { name: 'port-less CA entry (fallback from [host]:port)', server: 'valid', cert: true, kh: () => `@cert-authority 127.0.0.1 ${ca}\n`, accept: true },
    { name: 'plain key known for [host]:port', server: 'plain', cert: false, kh: () => `[127.0.0.1]:${port('plain')} ${hostKey('plain')}\n`, accept: true },
    { name: 'plain key known only port-less (fallback)', server: 'plain', cert: false, kh: () => `127.0.0.1 ${hostKey('plain')}\n`, accept: true },
    { name: 'port-less fallback does not pass a changed [host]:port key', server: 'plain', cert: false, kh: () => `[127.0.0.1]:${port('plain')} ${hostKey('valid')}\n127.0.0.1 ${hostKey('plain')}\n`, accept: false },
    { name: 'known under another port only', server: 'plain', cert: false, kh: () => `[127.0.0.1]:1 ${hostKey('plain')}\n`, accept: false },
    { name: '@revoked host key under a non-matching pattern', server: 'plain', cert: false, kh: () => `[127.0.0.1]:${port('plain')} ${hostKey('plain')}\n@revoked *.example ${hostKey('plain')}\n`, accept: true },
    { name: '@revoked host key under a matching pattern', server: 'plain', cert: false, kh: () => `[127.0.0.1]:${port('plain')} ${hostKey('plain')}\n@revoked [127.0.0.1]:* ${hostKey('plain')}\n`, accept: false },
  ];

  for (const c of cases) {
    it(`${c.accept ? 'accepts' : 'refuses'}: ${c.name}`, async () => {
      const kh = c.kh();
      const ssh = await sshAccepts(c.server, kh, c.cert);
      expect(ssh, `ssh itself (known_hosts:\n${kh})`).to.equal(c.accept);
      expect(hotswapAccepts(c.server, kh), `hotswap (known_hosts:\n${kh})`).to.equal(ssh);
    });
  }

  it('parses the certificate fields ssh-keygen wrote and verifies the CA signature', async () => {
    const cert = parseHostCert(servers.get('valid')!.blob);
    expect(cert.kind).to.equal(2);
    expect(cert.principals).to.deep.equal(['127.0.0.1', 'edge.example']);
    expect(cert.signatureValid).to.equal(true);
    expect(cert.plainType).to.equal('ssh-ed25519');
    expect(`${cert.plainType} ${cert.plainBlob.toString('base64')}`).to.equal(hostKey('valid'));
    const flipped = Buffer.from(servers.get('valid')!.blob);
    flipped[45] ^= 1; // a byte of the nonce: signed, so the signature must fail
    expect(parseHostCert(flipped).signatureValid).to.equal(false);
  });

  it('says why a certificate was not accepted', () => {
    const { sshd, blob } = servers.get('expired')!;
    const check = verifyHostKey(parseKnownHosts(`@cert-authority * ${ca}\n`, '/kh'), { name: '127.0.0.1', port: sshd.port, alias: false }, blob);
    expect(check.verdict.status).to.equal('unknown');
    expect(check.certProblem).to.match(/^certificate expired \(valid until .*\) \(CA from \/kh:1\)$/);
    expect(`${check.key.type} ${check.key.base64}`).to.equal(sshd.hostKeyPublic);
  });
});
