import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandGlob } from '../../src/ssh-config/glob.js';
import { matchHostPatterns } from '../../src/ssh-config/host-pattern.js';
import { defaultConfigSources, loadSshConfig } from '../../src/ssh-config/load.js';
import { parseSshConfig, SshConfigError } from '../../src/ssh-config/parse.js';
import { argvSplit as splitArgs } from '../../src/ssh-config/lexer.js';
import { parseProxyJump } from '../../src/ssh-config/proxy-jump.js';
import { hostConfig } from '../../src/ssh-config/resolve.js';
import { expandTokens } from '../../src/ssh-config/tokens.js';

/** hostConfig over one file given as text */
const lookup = (text: string, host: string) => hostConfig([{ file: 'cfg', items: parseSshConfig(text, 'cfg') as never }], host);

describe('ssh config: parsing', () => {
  it('reads `Key value`, `Key=value` and `Key = value`, keywords in any case, comments and blank lines skipped', () => {
    const items = parseSshConfig('# top\n\nHost a\n  HostName=10.0.0.1\n  port = 2222\n\tUSER deploy # trailing\n', 'f');
    expect(items).to.deep.equal([
      { kind: 'host', patterns: ['a'], file: 'f', line: 3 },
      // rest: the text after the keyword, as ProxyCommand takes it (comments and all, like ssh)
      { kind: 'option', key: 'hostname', args: ['10.0.0.1'], rest: '10.0.0.1', file: 'f', line: 4 },
      { kind: 'option', key: 'port', args: ['2222'], rest: '2222', file: 'f', line: 5 },
      { kind: 'option', key: 'user', args: ['deploy'], rest: 'deploy # trailing', file: 'f', line: 6 },
    ]);
  });

  it('splits arguments like OpenSSH: quotes group, backslash escapes, # starts a comment', () => {
    expect(splitArgs('"/path with space/key" b')).to.deep.equal(['/path with space/key', 'b']);
    expect(splitArgs("'x y' \"a\\\"b\" c\\ d # rest")).to.deep.equal(['x y', 'a"b', 'c d']);
    expect(splitArgs('"open')).to.equal(null);
  });

  // the reasons are ssh's own (checked with `ssh -G -F FILE a`: "FILE line 2: Bad port 'abc'.", ...)
  it('refuses bad values as ssh does, with ssh\'s reason, naming file and line', () => {
    const bad = (text: string, re: RegExp) => {
      const err = (() => { try { parseSshConfig(text, '/home/op/.ssh/config'); } catch (e) { return e; } return null; })();
      expect(err).to.be.instanceOf(SshConfigError);
      expect((err as Error).message).to.match(re);
    };
    bad('Host a\n  Port abc\n', /^\/home\/op\/\.ssh\/config:2: Port: Bad port 'abc'$/);
    bad('Port 70000\n', /config:1: Port: Bad port '70000'$/);
    bad('Host\n', /config:1: no argument after keyword "host"$/);
    bad('IdentitiesOnly maybe\n', /config:1: IdentitiesOnly: unsupported identitiesonly value "maybe"$/);
    bad('StrictHostKeyChecking sometimes\n', /config:1: StrictHostKeyChecking: unsupported stricthostkeychecking value "sometimes"$/);
    bad('User\n', /config:1: no argument after keyword "user"$/);
  });

  it('keeps keywords it does not use (they are valid for ssh), without error', () => {
    expect(() => lookup('UseKeychain yes\n', 'a'), 'refused when the host is looked up').to.throw(/cfg:1: Bad configuration option: usekeychain/);
    expect(lookup('IgnoreUnknown UseKeychain,AddKeysToAgent\nUseKeychain yes\nUser u\n', 'a').user?.value).to.equal('u');
    expect(() => parseSshConfig('ForwardAgent yes\nControlMaster auto\nSendEnv LANG LC_*\n', 'f')).not.to.throw();
  });
});

describe('ssh config: Host patterns', () => {
  // `ssh -G` with `Host *.example.com`: web1.EXAMPLE.com does not match (the name is compared as typed)
  it('matches *, ? and several patterns, case and all', () => {
    expect(matchHostPatterns(['*.example.com'], 'web1.example.com')).to.equal(true);
    expect(matchHostPatterns(['*.example.com'], 'web1.EXAMPLE.com')).to.equal(false);
    expect(matchHostPatterns(['web?'], 'web1')).to.equal(true);
    expect(matchHostPatterns(['web?'], 'web10')).to.equal(false);
    expect(matchHostPatterns(['db*', 'web*'], 'web10')).to.equal(true);
    expect(matchHostPatterns(['a.b'], 'axb'), 'a dot is literal').to.equal(false);
  });

  it('a negated pattern vetoes the line; negations alone never match', () => {
    expect(matchHostPatterns(['*', '!bastion'], 'bastion')).to.equal(false);
    expect(matchHostPatterns(['*', '!bastion'], 'web1')).to.equal(true);
    expect(matchHostPatterns(['!bastion'], 'web1')).to.equal(false);
  });
});

describe('ssh config: what applies to a host', () => {
  const config = `
Host web1 web2
  HostName %h.internal.example
  User alice
  IdentityFile ~/.ssh/web
Host web*
  User bob
  Port 2200
  IdentityFile ~/.ssh/second
  ProxyJump jump1,ops@jump2:2222
Host db-?
  ProxyJump none
Host *
  User fallback
  Port 22
  ProxyJump shouldnotwin
  IdentitiesOnly yes
  UserKnownHostsFile ~/.ssh/known_hosts ~/.ssh/team_hosts
  ConnectTimeout 7
  ServerAliveInterval 30
  StrictHostKeyChecking accept-new
`;

  // each expectation below is what `ssh -G -F FILE HOST` prints for this file
  it('keeps the first value obtained, as ssh does', () => {
    const c = lookup(config, 'web1');
    expect(c.hostName?.value).to.equal('web1.internal.example'); // %h in HostName is the name as typed
    expect(c.user).to.deep.equal({ value: 'alice', at: 'cfg:4' });
    expect(c.port?.value).to.equal(2200);
    expect(c.proxyJump?.value).to.equal('jump1,ops@jump2:2222');
    expect(c.identitiesOnly?.value).to.equal(true);
    expect(c.userKnownHostsFiles?.value).to.deep.equal(['~/.ssh/known_hosts', '~/.ssh/team_hosts']);
    expect(c.connectTimeout?.value).to.equal(7);
    expect(c.serverAliveInterval?.value).to.equal(30);
    expect(c.strictHostKeyChecking?.value).to.equal('accept-new');
    // Host patterns compare the name as typed; the HostName is lowercased
    expect(lookup(config, 'Web1')).to.deep.include({ hostName: { value: 'web1', at: 'the host name' } });
    expect(lookup(config, 'Web1').user?.value).to.equal('fallback');
  });

  it('accumulates IdentityFile in order', () => {
    expect(lookup(config, 'web1').identityFiles.map((i) => i.value)).to.deep.equal(['~/.ssh/web', '~/.ssh/second']);
    expect(lookup(config, 'web9').identityFiles.map((i) => i.value)).to.deep.equal(['~/.ssh/second']);
  });

  it('ProxyJump none in a specific block beats a later Host * (and means no jump)', () => {
    expect(lookup(config, 'db-1').proxyJump).to.equal(undefined);
    expect(lookup(config, 'db-1').proxyCommand).to.equal(undefined);
    expect(lookup(config, 'other').proxyJump?.value).to.equal('shouldnotwin');
    expect(lookup(config, 'other').user?.value).to.equal('fallback');
  });

  it('ProxyJump and ProxyCommand are one setting: the first one wins', () => {
    const a = lookup('Host a\n ProxyCommand ssh -W %h:%p b\nHost *\n ProxyJump c\n', 'a');
    expect(a.proxyJump).to.equal(undefined);
    expect(a.proxyCommand?.value).to.equal('ssh -W %h:%p b');
    expect(lookup('Host a\n ProxyJump c\nHost *\n ProxyCommand x\n', 'a').proxyCommand).to.equal(undefined);
  });

  it('options before any Host apply to every host; Match blocks are evaluated in file order', () => {
    const text = 'User early\nMatch exec "true"\n  Port 1111\nMatch all\n  Port 2222\n';
    expect(lookup(text, 'x').user?.value).to.equal('early');
    expect(lookup(text, 'x').port).to.deep.equal({ value: 1111, at: 'cfg:3' });
    const notExec = 'Match exec "false"\n  Port 1111\nMatch all\n  Port 2222\n';
    expect(lookup(notExec, 'x').port).to.deep.equal({ value: 2222, at: 'cfg:4' });
  });

  it('UserKnownHostsFile none means no user file', () => {
    expect(lookup('UserKnownHostsFile none\n', 'x').userKnownHostsFiles?.value).to.deep.equal([]);
  });
});

describe('ssh config: files and Include', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hotswap-sshcfg-'));
    await mkdir(join(dir, '.ssh', 'config.d'), { recursive: true });
  });
  after(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('expands Include globs relative to ~/.ssh, sorted; applies an Include inside a Host block only to that host', async () => {
    await writeFile(join(dir, '.ssh', 'config.d', 'b.conf'), 'Host b-host\n  User from-b\n');
    await writeFile(join(dir, '.ssh', 'config.d', 'a.conf'), 'Host *\n  Port 2001\n');
    await writeFile(join(dir, '.ssh', 'config.d', '.hidden'), 'User hidden\n');
    await writeFile(join(dir, '.ssh', 'only-web'), 'User web-user\n');
    const main = join(dir, 'main.conf');
    await writeFile(main, 'Include config.d/*\nHost web\n  Include only-web\nHost *\n  User last\n');
    const loaded = loadSshConfig(defaultConfigSources(main, dir), dir);
    expect(hostConfig(loaded.files, 'b-host').user?.value).to.equal('from-b');
    expect(hostConfig(loaded.files, 'b-host').port?.value).to.equal(2001);
    expect(hostConfig(loaded.files, 'web').user).to.deep.equal({ value: 'web-user', at: `${join(dir, '.ssh', 'only-web')}:1` });
    // after the included file, the Host block that included it goes on
    expect(hostConfig(loaded.files, 'other').user?.value).to.equal('last');
  });

  it('evaluates Match blocks (exec runs the command): a later User applies only when they match', async () => {
    const f = join(dir, 'match.conf');
    await writeFile(f, 'Match host a exec "test -f /nonexistent-x"\n  User y\nMatch host a exec "test -d /"\n  User z\n');
    const loaded = loadSshConfig(defaultConfigSources(f, dir), dir);
    expect(hostConfig(loaded.files, 'a').user).to.deep.equal({ value: 'z', at: `${f}:4` });
    expect(hostConfig(loaded.files, 'b').user).to.equal(undefined);
  });

  it('an explicit config_file must exist; ~/.ssh/config and /etc/ssh/ssh_config may not', async () => {
    expect(() => loadSshConfig(defaultConfigSources(join(dir, 'absent'), dir), dir)).to.throw(/cannot read ssh config .*absent: ENOENT/);
    const sources = defaultConfigSources(undefined, join(dir, 'nohome'));
    expect(sources.map((s) => s.file)).to.deep.equal([join(dir, 'nohome', '.ssh', 'config'), '/etc/ssh/ssh_config']);
    expect(() => loadSshConfig([{ ...sources[0]!, required: false }], dir)).not.to.throw();
  });

  it('an Include that loops is refused', async () => {
    const f = join(dir, 'loop.conf');
    await writeFile(f, `Include ${f}\n`);
    expect(() => loadSshConfig(defaultConfigSources(f, dir), dir)).to.throw(/nested more than 16 deep/);
  });

  it('glob: * does not match dot files; no match is no file', async () => {
    expect(expandGlob(join(dir, '.ssh', 'config.d', '*'))).to.deep.equal([join(dir, '.ssh', 'config.d', 'a.conf'), join(dir, '.ssh', 'config.d', 'b.conf')]);
    expect(expandGlob(join(dir, 'nothing-*'))).to.deep.equal([]);
  });
});

describe('ssh config: tokens and ProxyJump', () => {
  it('expands %h %r %u %p %d %% and refuses unknown tokens', () => {
    expect(expandTokens('%d/.ssh/%r@%h:%p-%u%%', { d: '/home/op', r: 'deploy', h: 'web1', p: '22', u: 'op' }, 'cfg:1')).to.equal('/home/op/.ssh/deploy@web1:22-op%');
    expect(() => expandTokens('%C', {}, 'cfg:3')).to.throw('cfg:3: unsupported token %C');
  });

  it('parses jump lists like ssh -J', () => {
    expect(parseProxyJump('jump')).to.deep.equal([{ host: 'jump' }]);
    expect(parseProxyJump('ops@j1:2222,j2')).to.deep.equal([{ host: 'j1', user: 'ops', port: 2222 }, { host: 'j2' }]);
    expect(parseProxyJump('ssh://ops@[::1]:2200')).to.deep.equal([{ host: '::1', user: 'ops', port: 2200 }]);
    expect(parseProxyJump('none')).to.deep.equal([]);
    expect(() => parseProxyJump('j1,,j2')).to.throw(/empty hop/);
    expect(() => parseProxyJump('j1:99999')).to.throw(/port must be 1-65535/);
    expect(() => parseProxyJump('-oProxyCommand=x')).to.throw(/no usable host name/);
  });
});
