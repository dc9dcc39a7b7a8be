import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aptMirror, parseDeb822Sources, parseOneLineSources } from '../../lab/systemd-mirror.js';

// The systemd lab's debootstrap uses the mirror apt already uses (the only one reachable).
// debian.sources as shipped on the lab machines (deb822, snapshot comments inside).
const DEBIAN_SOURCES = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
# http://snapshot.debian.org/archive/debian-security/20250520T000000Z
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

describe('systemd lab: the apt mirror', () => {
  let etc: string;
  beforeEach(() => {
    etc = mkdtempSync(join(tmpdir(), 'hotswap-apt-'));
    mkdirSync(join(etc, 'sources.list.d'));
  });
  afterEach(() => rmSync(etc, { recursive: true, force: true }));

  it('reads deb822 stanzas, skipping disabled ones', () => {
    expect(parseDeb822Sources(DEBIAN_SOURCES)).to.deep.equal([
      { types: ['deb'], uri: 'http://deb.debian.org/debian', suites: ['bookworm', 'bookworm-updates'] },
      { types: ['deb'], uri: 'http://deb.debian.org/debian-security', suites: ['bookworm-security'] },
    ]);
    expect(parseDeb822Sources('Enabled: no\nTypes: deb\nURIs: http://x/\nSuites: bookworm\n')).to.deep.equal([]);
  });

  it('reads one-line sources with options and comments', () => {
    expect(parseOneLineSources('# deb http://old/ bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://m/debian bookworm main # x\ndeb-src http://m/debian bookworm main\n'))
      .to.deep.equal([{ types: ['deb'], uri: 'http://m/debian', suites: ['bookworm'] }, { types: ['deb-src'], uri: 'http://m/debian', suites: ['bookworm'] }]);
  });

  it('picks the bookworm deb source, ignoring files that are not .list/.sources and other suites', () => {
    writeFileSync(join(etc, 'sources.list.d', 'nodesource.sources.disabled-by-farm'), 'Types: deb\nURIs: http://wrong/\nSuites: bookworm\n');
    writeFileSync(join(etc, 'sources.list.d', 'a-security.list'), 'deb http://sec/ bookworm-security main\n');
    writeFileSync(join(etc, 'sources.list.d', 'debian.sources'), DEBIAN_SOURCES);
    expect(aptMirror('bookworm', etc)).to.equal('http://deb.debian.org/debian');
  });

  it('says where it looked when no source serves the suite', () => {
    writeFileSync(join(etc, 'sources.list'), 'deb http://sec/ bookworm-security main\n');
    expect(() => aptMirror('bookworm', etc)).to.throw(/no apt source for Debian bookworm .*found: http:\/\/sec\/ bookworm-security/);
  });
});
