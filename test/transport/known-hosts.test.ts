import { expect } from 'chai';
import {
  checkHostKey, entryMatches, fingerprint, formatEntry, hostKeyAlgorithms, hostToken, keyFromBlob,
  knownTypesFor, parseKnownHosts,
} from '../../src/transport/known-hosts.js';

// Vectors made with OpenSSH's ssh-keygen (-l for fingerprints, -H for hashed lines).
const ED = { type: 'ssh-ed25519', base64: 'AAAAC3NzaC1lZDI1NTE5AAAAIL4Wv8sIlKAqncqa4qdQKHZg93KRHXOOxD7Ex5AFjQBO' };
const ED_FP = 'SHA256:ksvY7YITQSGyQDU0uXF25eJIZKriUML0WlDQt/vVhd4';
const ED2 = { type: 'ssh-ed25519', base64: 'AAAAC3NzaC1lZDI1NTE5AAAAIECIV6mAzVeSfnpli2vKrJi7WWZB2QrQrslR1afddWkB' };
const EC = {
  type: 'ecdsa-sha2-nistp256',
  base64: 'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBOHGRMKjr0X1qWwnjm4nsR8oLPSUvuKUgENfGGSerjZWkG65Es3p1ABuwPbipbHhTMe5ydeo1L8sAx1F5DBfvAA=',
};
const EC_FP = 'SHA256:XSaDdk53HAF3eW3k8YXMvWVWRUsDWrR75MEqLNJTOrY';
const HASHED_2222 = `|1|nvo8gyDqL6p04odEEQjZs1qgkNQ=|mCDl3QP3nKNlpkYEdMNbdlVddYU= ${ED.type} ${ED.base64}`; // [127.0.0.1]:2222
const HASHED_EXAMPLE = `|1|Y0vMo024dIwbza27W1Sog9fmGes=|8akJlW/dvIRAfTH6cN5fLn6+uUw= ${ED.type} ${ED.base64}`; // example.com

const line = (hosts: string, k = ED) => `${hosts} ${k.type} ${k.base64}`;

describe('known-hosts', () => {
  describe('parseKnownHosts', () => {
    it('keeps file and 1-based line numbers, skips comments, blanks and broken lines', () => {
      const text = ['# comment', '', line('a.example'), 'garbage', `@bogus ${line('x')}`, `  ${line('b,c')} a comment  `].join('\n');
      const entries = parseKnownHosts(text, '/kh');
      expect(entries.map((e) => [e.file, e.line, e.patterns])).to.deep.equal([
        ['/kh', 3, ['a.example']],
        ['/kh', 6, ['b', 'c']],
      ]);
    });

    it('reads markers and hashed host fields', () => {
      const [rev, ca, hashed] = parseKnownHosts([`@revoked ${line('*')}`, `@cert-authority ${line('*.example')}`, HASHED_2222].join('\n'), 'f');
      expect(rev!.marker).to.equal('revoked');
      expect(ca!.marker).to.equal('cert-authority');
      expect(hashed!.patterns).to.equal(null);
      expect(hashed!.hashed!.salt.length).to.equal(20);
    });
  });

  describe('hostToken', () => {
    it('is the bare address on port 22 and [addr]:port elsewhere, lower-cased', () => {
      expect(hostToken('Edge.Example', 22)).to.equal('edge.example');
      expect(hostToken('127.0.0.1', 2222)).to.equal('[127.0.0.1]:2222');
    });
  });

  describe('entryMatches', () => {
    const one = (hosts: string) => parseKnownHosts(line(hosts), 'f')[0]!;
    it('matches plain names, comma lists and the port form exactly', () => {
      expect(entryMatches(one('a,b.example,10.0.0.1'), 'b.example')).to.equal(true);
      expect(entryMatches(one('10.0.0.1'), '[10.0.0.1]:2222')).to.equal(false);
      expect(entryMatches(one('[10.0.0.1]:2222'), '[10.0.0.1]:2222')).to.equal(true);
      expect(entryMatches(one('[10.0.0.1]:2222'), '[10.0.0.1]:2223')).to.equal(false);
      expect(entryMatches(one('B.Example'), 'b.example')).to.equal(true);
    });

    it('supports * and ? wildcards and lets a negated pattern veto the line', () => {
      expect(entryMatches(one('*.example'), 'edge-1.example')).to.equal(true);
      expect(entryMatches(one('edge-?.example'), 'edge-12.example')).to.equal(false);
      expect(entryMatches(one('*.example,!db.example'), 'db.example')).to.equal(false);
      expect(entryMatches(one('a.b'), 'axb')).to.equal(false); // '.' is literal
    });

    it('matches hashed lines written by ssh-keygen -H, for both host forms', () => {
      const [h2222, hex] = parseKnownHosts(`${HASHED_2222}\n${HASHED_EXAMPLE}`, 'f');
      expect(entryMatches(h2222!, '[127.0.0.1]:2222')).to.equal(true);
      expect(entryMatches(h2222!, '127.0.0.1')).to.equal(false);
      expect(entryMatches(hex!, 'example.com')).to.equal(true);
      expect(entryMatches(hex!, 'example.org')).to.equal(false);
    });
  });

  describe('checkHostKey', () => {
    const T = '[127.0.0.1]:2222';
    it('knows a listed key', () => {
      const v = checkHostKey(parseKnownHosts(`${line('other', ED2)}\n${line(T)}`, 'f'), T, ED);
      expect(v.status).to.equal('known');
      expect(v.status === 'known' && v.entry.line).to.equal(2);
    });

    it('calls a host with no entry unknown, naming the types it does know', () => {
      expect(checkHostKey([], T, ED)).to.deep.equal({ status: 'unknown', otherTypes: [] });
      expect(checkHostKey(parseKnownHosts(line(T, EC), 'f'), T, ED)).to.deep.equal({ status: 'unknown', otherTypes: [EC.type] });
    });

    it('reports a different key of the same type as changed, with its line', () => {
      const v = checkHostKey(parseKnownHosts(`# x\n${line(T, ED2)}`, '/kh'), T, ED);
      expect(v.status).to.equal('changed');
      expect(v.status === 'changed' && `${v.entry.file}:${v.entry.line}`).to.equal('/kh:2');
    });

    it('refuses a @revoked key even when another line lists it', () => {
      const v = checkHostKey(parseKnownHosts(`${line(T)}\n@revoked ${line('*')}`, 'f'), T, ED);
      expect(v.status).to.equal('revoked');
    });

    it('ignores @cert-authority lines as host keys', () => {
      expect(checkHostKey(parseKnownHosts(`@cert-authority ${line('*')}`, 'f'), T, ED).status).to.equal('unknown');
    });

    it('matches through a hashed line', () => {
      expect(checkHostKey(parseKnownHosts(HASHED_2222, 'f'), '[127.0.0.1]:2222', ED).status).to.equal('known');
    });
  });

  describe('keys', () => {
    it('reads the type from the wire blob', () => {
      expect(keyFromBlob(Buffer.from(ED.base64, 'base64'))).to.deep.equal(ED);
      expect(keyFromBlob(Buffer.from(EC.base64, 'base64')).type).to.equal(EC.type);
      expect(() => keyFromBlob(Buffer.from([0, 0, 0]))).to.throw(/too short/);
      expect(() => keyFromBlob(Buffer.from([0xff, 0, 0, 0, 1]))).to.throw(/no valid type/);
    });

    it('fingerprints like ssh-keygen -l (SHA256, base64 without padding)', () => {
      expect(fingerprint(ED)).to.equal(ED_FP);
      expect(fingerprint(EC)).to.equal(EC_FP);
    });

    it('formats the line accept-new appends', () => {
      expect(formatEntry('[127.0.0.1]:2222', ED)).to.equal(line('[127.0.0.1]:2222'));
      expect(formatEntry('edge.example', ED)).to.equal(line('edge.example'));
    });
  });

  describe('hostKeyAlgorithms', () => {
    it('asks for the recorded key types first, then the rest without duplicates', () => {
      const algos = hostKeyAlgorithms(['ssh-rsa', 'ecdsa-sha2-nistp256']);
      expect(algos.slice(0, 4)).to.deep.equal(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ecdsa-sha2-nistp256']);
      expect(new Set(algos).size).to.equal(algos.length);
      expect(hostKeyAlgorithms([])[0]).to.equal('ssh-ed25519');
    });

    it('takes the types from matching plain entries only', () => {
      const entries = parseKnownHosts([line('h', EC), `@revoked ${line('h')}`, line('other')].join('\n'), 'f');
      expect(knownTypesFor(entries, 'h')).to.deep.equal([EC.type]);
    });
  });
});
