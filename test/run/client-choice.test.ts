import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseClient, handOffNote, pinnedNote, type HopFacts } from '../../src/run/client-choice.js';
import { identityFacts, kerberosCache, keyTypeOf, opensshKeyType } from '../../src/run/client-facts.js';
import { formatHashedEntry, parseKnownHosts } from '../../src/transport/known-hosts.js';

// Keys made with ssh-keygen for these tests (a CA and a host key), and two
// FIDO public keys as published in public NixOS configurations.
const CA = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHjlDs0vBI74KqOVut7hSxn3pLeRtCf3ISffiiFUDqYS';
const HOST = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII47u7vuYPCXgYNezVl1bOd34uyWpXjjLdMNIpbs80pb';
const SK_ED25519 = 'sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIO9ZH1VvOc2+1tAkzQzNwhyT+LT6wCBmt9gP2yeH8g+oAAAABHNzaDo=';
const SK_ECDSA = 'sk-ecdsa-sha2-nistp256@openssh.com AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5jb20AAAAIbmlzdHAyNTYAAABBBBVU8tZzImqrN/emvMzRyrz/hCQnZ9FHd/wt4+pUDQ74odQDjC9frGIZRZQ0HtSEVIv7ZJ/5tssPNZWxELZfKIgAAAAEc3NoOg==';
// `ssh-keygen -t ed25519 -N pw`: the type is readable without the passphrase
const ENCRYPTED = `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABBYVR332f
XvNsTfxlpcMt4DAAAAEAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAICWyRMiexnlYHv2q
K5uQPKWbbKfPqBw7ouBFwvT5p5YaAAAAkGgfkrvZ6G8iQvunS65MM/9f3PJV+6HqWDVsek
2AzxFiDflZGqR/rFqralwb4dcvNQOTCJ3NOo9zhQ2vrjJ5gERbRJGwBBnMLGzKWTFlT0MX
TziR4hPqYFc8APXt0qkX8e6/qbCMqsvMxRiyGzsT38GtJOMoDPekpUlyVSpiMx/ACWmDeM
xrbM92WDaEUWH3zw==
-----END OPENSSH PRIVATE KEY-----
`;

type Case = {
  name: string;
  kh?: string;
  hop?: Partial<HopFacts>;
  lookup?: HopFacts['lookup'];
  expect: 'builtin' | RegExp;
};

const hop = (c: Case): HopFacts => ({
  label: 'lab-1',
  lookup: c.lookup ?? { name: '127.0.0.1', port: 2222, alias: false },
  hostKeyChecking: 'strict',
  knownHosts: parseKnownHosts(c.kh ?? '', '/kh'),
  identities: [],
  kerberosCache: null,
  ...c.hop,
});

const cases: Case[] = [
  { name: 'a plain key recorded for [host]:port', kh: `[127.0.0.1]:2222 ${HOST}\n`, expect: 'builtin' },
  { name: 'nothing recorded: the built-in client says "unknown host key" as ssh does', kh: '', expect: 'builtin' },
  { name: 'only a @cert-authority for [host]:port', kh: `@cert-authority [127.0.0.1]:2222,127.0.0.1 ${CA}\n`, expect: /certified by the @cert-authority at \/kh:1, which the built-in client cannot check/ },
  { name: 'only a @cert-authority for *', kh: `# fleet CA\n@cert-authority * ${CA}\n`, expect: /@cert-authority at \/kh:2/ },
  { name: 'a port-less @cert-authority (ssh looks the host up without the port too)', kh: `@cert-authority 127.0.0.1 ${CA}\n`, expect: /@cert-authority at \/kh:1/ },
  { name: '@cert-authority and a plain key: the built-in client checks the key', kh: `@cert-authority * ${CA}\n[127.0.0.1]:2222 ${HOST}\n`, expect: 'builtin' },
  { name: '@cert-authority and a port-less plain key', kh: `@cert-authority * ${CA}\n127.0.0.1 ${HOST}\n`, expect: 'builtin' },
  { name: '@cert-authority and a plain key that is @revoked', kh: `@cert-authority * ${CA}\n[127.0.0.1]:2222 ${HOST}\n@revoked * ${HOST}\n`, expect: /@cert-authority at \/kh:1/ },
  { name: '@cert-authority whose CA is @revoked for the host: ssh refuses it too', kh: `@cert-authority * ${CA}\n@revoked 127.0.0.1 ${CA}\n`, expect: 'builtin' },
  { name: '@cert-authority for other hosts only', kh: `@cert-authority *.example.com ${CA}\n`, expect: 'builtin' },
  { name: '@cert-authority whose negated pattern excludes the host', kh: `@cert-authority *,!*127.0.0.1* ${CA}\n`, expect: 'builtin' },
  { name: 'a plain key for another host and a CA for this one', kh: `[127.0.0.1]:22 ${HOST}\nother ${HOST}\n@cert-authority [127.0.0.1]:* ${CA}\n`, expect: /@cert-authority at \/kh:3/ },
  { name: 'a hashed @cert-authority line', kh: `@cert-authority ${formatHashedEntry('[127.0.0.1]:2222', { type: 'ssh-ed25519', base64: CA.split(' ')[1]! }).replace(/^(\S+) .*/, '$1')} ${CA}\n`, expect: /@cert-authority at \/kh:1/ },
  { name: 'HostKeyAlias: looked up under the alias, port 22', kh: `@cert-authority edge-7 ${CA}\n[127.0.0.1]:2222 ${HOST}\n`, lookup: { name: 'edge-7', port: 22, alias: true }, expect: /@cert-authority at \/kh:1/ },
  { name: 'host_key_checking off: nothing is checked, the built-in client stays', kh: `@cert-authority * ${CA}\n`, hop: { hostKeyChecking: 'off' }, expect: 'builtin' },
  { name: 'accept-new: ssh checks the certificate instead of recording a key', kh: `@cert-authority * ${CA}\n`, hop: { hostKeyChecking: 'accept-new' }, expect: /@cert-authority/ },
  { name: 'an ed25519-sk identity file', kh: `[127.0.0.1]:2222 ${HOST}\n`, hop: { identities: [{ path: '/k/id_ed25519_sk', keyType: 'sk-ssh-ed25519@openssh.com' }] }, expect: /identity file \/k\/id_ed25519_sk is a FIDO security key \(sk-ssh-ed25519@openssh.com\)/ },
  { name: 'an ecdsa-sk identity file after a usable one', hop: { identities: [{ path: '/k/a', keyType: 'ssh-ed25519' }, { path: '/k/b', keyType: 'sk-ecdsa-sha2-nistp256@openssh.com' }] }, expect: /\/k\/b is a FIDO security key/ },
  { name: 'plain identity files', hop: { identities: [{ path: '/k/a', keyType: 'ssh-ed25519' }, { path: '/k/c', keyType: null }] }, expect: 'builtin' },
  { name: 'a user certificate beside an identity file', hop: { identities: [{ path: '/k/a', keyType: 'ssh-ed25519', certificate: '/k/a-cert.pub' }] }, expect: /\/k\/a has a user certificate \(\/k\/a-cert.pub\)/ },
  { name: 'PKCS11Provider', hop: { pkcs11Provider: { value: '/usr/lib/opensc-pkcs11.so', at: '/cfg:3' } }, expect: /PKCS11Provider \/usr\/lib\/opensc-pkcs11.so at \/cfg:3/ },
  { name: 'GSSAPIAuthentication yes with a Kerberos ticket', hop: { gssapiAuthentication: { value: true, at: '/etc/ssh/ssh_config:53' }, kerberosCache: '/tmp/krb5cc_0' }, expect: /GSSAPIAuthentication yes at \/etc\/ssh\/ssh_config:53 with a Kerberos ticket cache \(\/tmp\/krb5cc_0\)/ },
  { name: 'GSSAPIAuthentication yes without a ticket (Debian\'s default ssh_config)', hop: { gssapiAuthentication: { value: true, at: '/etc/ssh/ssh_config:53' } }, expect: 'builtin' },
  { name: 'GSSAPIAuthentication no with a ticket', hop: { gssapiAuthentication: { value: false, at: '/cfg:1' }, kerberosCache: '/tmp/krb5cc_0' }, expect: 'builtin' },
];

describe('client choice: the built-in client where it is exact, the system ssh where only it can', () => {
  for (const c of cases) {
    it(`${c.expect === 'builtin' ? 'builtin' : 'openssh'}: ${c.name}`, () => {
      const got = chooseClient([hop(c)]);
      if (c.expect === 'builtin') expect(got).to.deep.equal({ client: 'builtin' });
      else {
        expect(got.client).to.equal('openssh');
        expect((got as { reason: string }).reason).to.match(c.expect);
      }
    });
  }

  it('a bastion that needs the system ssh hands the whole host to it, naming the bastion', () => {
    const bastion = hop({ name: '', kh: `@cert-authority * ${CA}\n`, expect: 'builtin' });
    const target = hop({ name: '', kh: `[127.0.0.1]:2222 ${HOST}\n`, expect: 'builtin' });
    const got = chooseClient([{ ...bastion, label: 'jump.example' }, target]);
    expect(got).to.deep.equal({ client: 'openssh', reason: 'its bastion jump.example: its host key is certified by the @cert-authority at /kh:1, which the built-in client cannot check' });
    expect(chooseClient([target, target])).to.deep.equal({ client: 'builtin' });
  });

  it('says what happens in one line', () => {
    expect(handOffNote('lab-1', 'its host key is certified by the @cert-authority at /kh:1, which the built-in client cannot check'))
      .to.equal('lab-1: its host key is certified by the @cert-authority at /kh:1, which the built-in client cannot check; connecting with the system ssh (ssh.client: openssh)');
    expect(pinnedNote('lab-1', 'PKCS11Provider p at /cfg:3 (keys on a token), which the built-in client cannot use'))
      .to.equal('lab-1: PKCS11Provider p at /cfg:3 (keys on a token), which the built-in client cannot use; ssh.client: builtin is set, so the built-in client tries anyway (without that setting hotswap would connect with the system ssh)');
  });
});

describe('client facts: key types and tickets read without a passphrase', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'hotswap-facts-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  it('reads the type of an encrypted OpenSSH private key without its passphrase', () => {
    expect(opensshKeyType(ENCRYPTED)).to.equal('ssh-ed25519');
    expect(opensshKeyType('-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n')).to.equal(null);
    expect(opensshKeyType('-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n')).to.equal(null);
  });

  it('reads an sk key\'s type from the key file when there is no .pub', async () => {
    // OpenSSH's container around a real sk public key: the type sits in the public part
    const str = (b: Buffer) => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      return Buffer.concat([len, b]);
    };
    const pub = Buffer.from(SK_ED25519.split(' ')[1]!, 'base64');
    const body = Buffer.concat([Buffer.from('openssh-key-v1\0', 'latin1'), str(Buffer.from('none')), str(Buffer.from('none')), str(Buffer.alloc(0)), Buffer.from([0, 0, 0, 1]), str(pub), str(Buffer.alloc(8))]);
    const file = join(dir, 'id_ed25519_sk');
    await writeFile(file, `-----BEGIN OPENSSH PRIVATE KEY-----\n${body.toString('base64').replace(/.{70}/g, '$&\n')}\n-----END OPENSSH PRIVATE KEY-----\n`);
    expect(keyTypeOf(file)).to.equal('sk-ssh-ed25519@openssh.com');
  });

  it('prefers the .pub beside the key, skips missing files and sees a certificate beside one', async () => {
    const a = join(dir, 'id_ecdsa_sk');
    await writeFile(a, 'not a key');
    await writeFile(`${a}.pub`, `${SK_ECDSA} op@laptop\n`);
    const b = join(dir, 'id_ed25519');
    await writeFile(b, ENCRYPTED);
    await writeFile(`${b}-cert.pub`, 'ssh-ed25519-cert-v01@openssh.com AAAA\n');
    expect(identityFacts([a, join(dir, 'missing'), b])).to.deep.equal([
      { path: a, keyType: 'sk-ecdsa-sha2-nistp256@openssh.com' },
      { path: b, keyType: 'ssh-ed25519', certificate: `${b}-cert.pub` },
    ]);
  });

  it('finds a Kerberos ticket cache by $KRB5CCNAME or MIT\'s default file', () => {
    expect(kerberosCache({ home: '/h', uid: 4242424, krb5ccname: 'KEYRING:persistent:0' })).to.equal('KRB5CCNAME=KEYRING:persistent:0');
    expect(kerberosCache({ home: '/h', uid: 4242424 })).to.equal(null);
  });
});
