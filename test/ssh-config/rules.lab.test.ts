// One rule at a time, against `ssh -G` on this machine: small configs written
// for each rule of ssh_config(5) that hotswap implements; for every host asked,
// hotswap agrees with ssh on every field it uses, and refuses exactly when ssh
// refuses. All ssh -G calls run in one batch (one mount namespace).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { loadSshConfig } from '../../src/ssh-config/load.js';
import { defaultParseEnv } from '../../src/ssh-config/parse-env.js';
import { hostConfig } from '../../src/ssh-config/resolve.js';
import { planSsh } from '../../src/run/ssh-plan.js';
import { differences, ENV, hotswapG, sshGAll, type Fields, type Outcome } from './oracle.js';

const NBSP = '\u00a0';
const me = userInfo().username;

interface Case {
  rule: string;
  config: string;
  /** files under the home's .ssh (for Include) */
  files?: Record<string, string>;
  hosts: Array<string | { host: string; user?: string; port?: number }>;
  /** what ssh says, pinned, so that each case exercises its rule: `[user@]host[:port]` as asked -> fields, or 'refused' */
  pin?: Record<string, Partial<Fields> | 'refused'>;
}

// `LOG` in a config is replaced by a file that `Match exec` commands append to.
const CASES: Case[] = [
  {
    rule: 'Match host (the HostName so far, lowercased) and originalhost (as typed)',
    config: 'Host web1 WEB2\n  HostName Web1.Example.NET\nMatch host web1.example.net\n  User by-hostname\nMatch originalhost web1\n  Port 2201\nMatch host web1\n  IdentityFile ~/.ssh/never\nMatch originalhost web2\n  ConnectTimeout 4\n',
    hosts: ['web1', 'WEB2', 'web3', 'Web1'],
    pin: { web1: { user: 'by-hostname', port: '2201', hostname: 'web1.example.net', identityfile: '(default)' }, WEB2: { user: 'by-hostname', connecttimeout: '4' } },
  },
  {
    rule: 'negation: of a pattern in the list, and of a whole criterion',
    config: 'Match !host db*,!cache*\n  User not-db\nMatch host *,!web2\n  Port 2202\nMatch !originalhost web3 !user admin\n  ConnectTimeout 5\nMatch host !web4\n  ServerAliveCountMax 8\n',
    hosts: ['db1', 'cache1', 'web2', 'web3', 'web4', { host: 'web5', user: 'admin' }],
    pin: { web2: { port: '22', connecttimeout: '5' }, db1: { user: me, port: '2202' }, web4: { serveralivecountmax: '3' } },
  },
  {
    rule: 'Match user (the remote user so far) and localuser',
    config: `Host early\n  User deploy\nMatch user deploy\n  IdentityFile ~/.ssh/deploy\nMatch localuser ${me}\n  ServerAliveInterval 15\nMatch localuser nobody\n  ServerAliveCountMax 9\nMatch user ${me}\n  IdentitiesOnly yes\nHost late\n  User deploy\n`,
    hosts: ['x', { host: 'x', user: 'deploy' }, 'early', 'late'],
    pin: { early: { identityfile: '~/.ssh/deploy', serveraliveinterval: '15', identitiesonly: 'no' }, x: { identitiesonly: 'yes' }, 'deploy@x': { identityfile: '~/.ssh/deploy', identitiesonly: 'no' }, late: { identityfile: '(default)', user: 'deploy' } },
  },
  {
    rule: 'Match exec: the command runs (exit 0 matches), after earlier criteria of its line matched',
    config: 'Match exec "test %n = yes-host"\n  Port 2203\nMatch exec false\n  Port 9999\nMatch host no-such-host exec "echo never >> LOG"\n  User never\nMatch !exec "test %n = yes-host"\n  User not-yes\n',
    hosts: ['yes-host', 'other'],
    pin: { 'yes-host': { port: '2203', user: me }, other: { port: '22', user: 'not-yes' } },
  },
  {
    rule: 'Match exec: %-tokens (%h %n %p %r %u %C %L %l %i %k %%), and the command runs again in the final pass',
    config: 'Host tk\n  HostName TK.Example.Net\n  Port 2022\n  HostKeyAlias Alias.Example\nMatch exec "echo \'%h|%n|%p|%r|%u|%C|%L|%l|%i|%k|%%\' >> LOG"\n  User from-exec\nMatch final exec "echo final %h >> LOG"\n  ConnectTimeout 3\n',
    hosts: ['tk', { host: 'other', user: 'r', port: 2 }],
    pin: { tk: { user: 'from-exec', connecttimeout: '3', hostname: 'tk.example.net' } },
  },
  {
    rule: 'Match all, final (a second pass with the final host name), canonical, and !final',
    config: 'Match final host web1.example.net\n  User final-user\nHost web1\n  HostName web1.example.net\nMatch canonical\n  Port 2204\nMatch !final\n  ConnectTimeout 9\nMatch all\n  ServerAliveCountMax 7\n',
    hosts: ['web1', 'web2'],
    pin: { web1: { user: 'final-user', port: '2204', connecttimeout: '9', serveralivecountmax: '7' }, web2: { user: me, port: '2204' } },
  },
  { rule: 'Match all combined with another criterion is refused', config: 'Match all host x\n  User u\n', hosts: ['x'], pin: { x: 'refused' } },
  { rule: 'a Match attribute this ssh lacks is refused', config: 'Match localnetwork 10.0.0.0/8\n  User u\n', hosts: ['x'], pin: { x: 'refused' } },
  { rule: 'Match without criteria is refused', config: 'Match\n  User u\n', hosts: ['x'], pin: { x: 'refused' } },
  {
    rule: 'first value wins; IdentityFile accumulates; the command line (-l, -p) beats the file',
    config: 'Host a\n  Port 1001\n  User u1\nHost *\n  Port 1002\n  User u2\n  IdentityFile ~/.ssh/one\nHost a\n  IdentityFile ~/.ssh/two\n  IdentityFile ~/.ssh/one\n',
    hosts: ['a', 'b', { host: 'a', user: 'cli', port: 1003 }],
    pin: { a: { port: '1001', user: 'u1', identityfile: '~/.ssh/one ~/.ssh/two' }, b: { port: '1002', user: 'u2' }, 'cli@a:1003': { port: '1003', user: 'cli' } },
  },
  {
    rule: 'IgnoreUnknown: only for keywords after it, in a block that applies',
    config: 'IgnoreUnknown UseKeychain,AddKeysToAgentX\nUseKeychain yes\nHost *\n  AddKeysToAgentX yes\n  User after-unknown\n',
    hosts: ['x'],
    pin: { x: { user: 'after-unknown' } },
  },
  { rule: 'IgnoreUnknown after the keyword does not help', config: 'UseKeychain yes\nIgnoreUnknown UseKeychain\n', hosts: ['x'], pin: { x: 'refused' } },
  {
    rule: 'IgnoreUnknown in a block that applies to one host only',
    config: 'Host other\n  IgnoreUnknown Foo\nHost *\n  Foo bar\n',
    hosts: ['other', 'x'],
    pin: { other: {}, x: 'refused' },
  },
  { rule: 'an unknown keyword is refused even under a Host that does not apply', config: 'Host nothere\n  Foo bar\n', hosts: ['x'], pin: { x: 'refused' } },
  { rule: 'a non-breaking space is not whitespace: `User\u00a0deploy` is an unknown keyword', config: `User${NBSP}deploy\n`, hosts: ['x'], pin: { x: 'refused' } },
  { rule: 'a non-breaking space before the keyword', config: `${NBSP}User deploy\n`, hosts: ['x'], pin: { x: 'refused' } },
  { rule: 'a non-breaking space inside a value is part of it', config: `Host a\n  User x${NBSP}y\n`, hosts: ['a'], pin: { a: { user: `x${NBSP}y` } } },
  { rule: 'a removed cipher is refused', config: 'Ciphers arcfour\n', hosts: ['x'], pin: { x: 'refused' } },
  { rule: 'a removed MAC is refused', config: 'Host x\n  MACs +hmac-ripemd160\n', hosts: ['x'], pin: { x: 'refused' } },
  { rule: 'known algorithms, added or removed, are accepted', config: 'Ciphers +aes128-cbc\nKexAlgorithms -diffie-hellman-group1-sha1\nHostKeyAlgorithms ^ssh-ed25519\nUser algo\n', hosts: ['x'], pin: { x: { user: 'algo' } } },
  { rule: 'a bad value is refused (Port, yes/no, time)', config: 'Host x\n  ConnectTimeout 5q\n', hosts: ['x', 'y'], pin: { x: 'refused', y: 'refused' } },
  {
    rule: 'Include inside Match: read only when the Match applies; relative to ~/.ssh',
    config: 'Match originalhost inc-*\n  Include inc.d/*.conf\nHost *\n  User outer\n',
    files: { 'inc.d/a.conf': 'User from-include\nHost inc-2\n  Port 2205\n', 'inc.d/b.conf': 'ConnectTimeout 6\n' },
    hosts: ['inc-1', 'inc-2', 'plain'],
    pin: { 'inc-1': { user: 'from-include', connecttimeout: '6' }, 'inc-2': { port: '2205' }, plain: { user: 'outer', connecttimeout: 'none' } },
  },
  {
    rule: 'an included file\'s bad line is refused even when its Match does not apply',
    config: 'Match originalhost nothere\n  Include bad.conf\n',
    files: { 'bad.conf': 'Port abc\n' },
    hosts: ['x'],
    pin: { x: 'refused' },
  },
  {
    rule: 'ProxyCommand and ProxyJump share one slot; `ProxyCommand none` takes it, `ProxyJump none` does not',
    config: 'Host fallback j1 bastion\n  ProxyCommand none\nHost pc-first\n  ProxyCommand nc %h %p\nHost pj-first\n  ProxyJump j1,ops@j2:2222\nHost pc-none\n  ProxyCommand none\nHost pj-none\n  ProxyJump none\nHost match-pc\n  HostName 10.1.2.3\nMatch host 10.1.2.3\n  ProxyCommand ssh -W %h:%p bastion\nHost *\n  ProxyJump fallback\n  ProxyCommand never\n',
    hosts: ['pc-first', 'pj-first', 'pc-none', 'pj-none', 'match-pc', 'other'],
    pin: { 'pc-first': { proxycommand: 'nc %h %p', proxyjump: '' }, 'pj-first': { proxyjump: 'j1,ops@j2:2222', proxycommand: '' }, 'match-pc': { proxycommand: 'ssh -W %h:%p bastion' }, other: { proxyjump: 'fallback' }, 'pc-none': { proxyjump: '', proxycommand: '' }, 'pj-none': { proxyjump: '', proxycommand: 'never' } },
  },
  {
    rule: '%-tokens: HostName takes %h and %%; IdentityFile, UserKnownHostsFile, IdentityAgent take the rest',
    config: 'Host t*\n  HostName %h.Example.%%\n  User tok\n  IdentityFile ~/.ssh/%r@%h-%p-%n\n  UserKnownHostsFile ~/.ssh/kh-%n %d/kh-%u\n  IdentityAgent ~/agent-%r.sock\nHost 10.*\n  HostName %h\n',
    hosts: ['t1', { host: 't2', user: 'cli', port: 2022 }, '10.0.0.1'],
    // a name with `%` in it counts as an address for ssh, and is not lowercased
    pin: { t1: { hostname: 't1.Example.%', identityfile: '~/.ssh/%r@%h-%p-%n' } },
  },
  { rule: 'a token HostName does not take is refused', config: 'Host x\n  HostName %p.example\n', hosts: ['x', 'y'], pin: { x: 'refused', y: {} } },
  {
    rule: 'none: UserKnownHostsFile, IdentityAgent, ConnectTimeout',
    config: 'Host a\n  UserKnownHostsFile none\n  GlobalKnownHostsFile none\n  IdentityAgent none\n  ConnectTimeout none\n  StrictHostKeyChecking off\n',
    hosts: ['a'],
    pin: { a: { userknownhostsfile: 'none', globalknownhostsfile: 'none', identityagent: 'none', stricthostkeychecking: 'false' } },
  },
];

describe('ssh config rules against ssh -G', function () {
  this.timeout(120_000);
  let dir: string;
  let home: string;
  const results: Array<{ c: Case; file: string; host: string; user?: string; port?: number; log: string; theirs?: Outcome; theirLog?: string }> = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hotswap-rules-'));
    home = join(dir, 'home');
    mkdirSync(join(home, '.ssh'), { recursive: true });
    CASES.forEach((c, i) => {
      for (const [name, text] of Object.entries(c.files ?? {})) {
        mkdirSync(join(home, '.ssh', name, '..'), { recursive: true });
        writeFileSync(join(home, '.ssh', name), text);
      }
      c.hosts.forEach((h, j) => {
        const q = typeof h === 'string' ? { host: h } : h;
        const log = join(dir, `exec-${i}-${j}.log`);
        const file = join(dir, `case-${i}-${j}.config`);
        writeFileSync(file, c.config.replaceAll('LOG', log));
        results.push({ c, file, ...q, log });
      });
    });
    const theirs = sshGAll(home, results);
    results.forEach((r, i) => {
      r.theirs = theirs[i];
      r.theirLog = readLog(r.log);
      rmSync(r.log, { force: true });
    });
  });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  const readLog = (f: string) => { try { return readFileSync(f, 'utf8'); } catch { return ''; } };
  const asked = (r: { host: string; user?: string; port?: number }) => `${r.user ? `${r.user}@` : ''}${r.host}${r.port ? `:${r.port}` : ''}`;
  const label = (r: (typeof results)[number]) => `${r.c.rule} [${r.user ? `-l ${r.user} ` : ''}${r.port ? `-p ${r.port} ` : ''}${r.host}]`;

  it('each case exercises its rule: ssh -G says what the case expects', () => {
    const problems: string[] = [];
    for (const r of results) {
      const pin = r.c.pin?.[asked(r)];
      if (pin === undefined) continue;
      const t = r.theirs!;
      if (pin === 'refused') { if (t.ok) problems.push(`${label(r)}: ssh accepts`); continue; }
      if (!t.ok) { problems.push(`${label(r)}: ssh refuses (${t.error})`); continue; }
      if (r.c.config.includes('LOG') && r.c.config.includes('%C') && !r.theirLog) problems.push(`${label(r)}: ssh ran no Match exec command`);
      for (const [k, v] of Object.entries(pin)) if (t.fields[k] !== v) problems.push(`${label(r)}: ssh ${k}=${JSON.stringify(t.fields[k])}, the case expects ${JSON.stringify(v)}`);
    }
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  // ssh -G shows ProxyCommand as written: the command line it runs is in `ssh -v`'s log
  it('runs the ProxyCommand line ssh runs (%h %n %p %r %k %% expanded, through exec)', () => {
    const file = join(dir, 'proxy.config');
    writeFileSync(file, 'Host pc*\n  HostName PC.Example.Net\n  Port 2022\n  ProxyCommand false %h %n %p %r %k %%  # %n\nHost pc2\n  HostKeyAlias Alias2\n  User u2\n');
    for (const q of [{ host: 'pc1' }, { host: 'pc2' }, { host: 'pc1', user: 'cli', port: 7 }]) {
      const r = spawnSync('ssh', ['-v', '-F', file, '-o', 'BatchMode=yes', ...(q.user ? ['-l', q.user] : []), ...(q.port ? ['-p', String(q.port)] : []), '--', q.host, 'true'], {
        encoding: 'utf8', env: { ...ENV, HOME: userInfo().homedir }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000,
      });
      const theirs = /Executing proxy command: (.*)/.exec(r.stderr)?.[1];
      expect(theirs, `ssh -v did not run the ProxyCommand: ${r.stderr}`).to.be.a('string');
      const loaded = loadSshConfig([{ file, includeBase: join(home, '.ssh'), required: true }], home, defaultParseEnv(ENV));
      const local = { home, user: me, uid: userInfo().uid, hostname: hostname() };
      const lookup = (h: string, preset: { user?: string; port?: number } = {}) => hostConfig(loaded.files, { host: h, ...preset, local });
      const plan = planSsh({ name: q.host, ssh: { address: q.host, ...q } as never }, {}, lookup, local);
      expect(plan.target.proxyCommand?.command, JSON.stringify(q)).to.equal(theirs);
    }
  });

  it('hotswap agrees with ssh -G on every field, and refuses exactly when ssh does', () => {
    const problems: string[] = [];
    for (const r of results) {
      const ours = hotswapG({ file: r.file, host: r.host, ...(r.user ? { user: r.user } : {}), ...(r.port ? { port: r.port } : {}), home });
      for (const d of differences(r.theirs!, ours)) problems.push(`${label(r)}: ${d}`);
      // Match exec ran the same commands (none that ssh skipped)
      const ourLog = readLog(r.log);
      if (ourLog !== r.theirLog) problems.push(`${label(r)}: Match exec ran ${JSON.stringify(ourLog)}, ssh ran ${JSON.stringify(r.theirLog)}`);
    }
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });
});
