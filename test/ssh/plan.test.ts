import { expect } from 'chai';
import { planSsh, type LocalFacts, type PlaybookSsh } from '../../src/run/ssh-plan.js';
import { parseSshConfig } from '../../src/ssh-config/parse.js';
import { hostConfig } from '../../src/ssh-config/resolve.js';

const local: LocalFacts = { home: '/home/op', user: 'op', uid: 1000, hostname: 'laptop.corp', sshAuthSock: '/run/agent.sock' };
const configOf = (text: string) => {
  const files = [{ file: '/home/op/.ssh/config', items: parseSshConfig(text, '/home/op/.ssh/config') as never }];
  return (h: string) => hostConfig(files, h);
};
const host = (name: string, ssh: { address?: string; port?: number; user?: string; identityFile?: string } = {}) =>
  ({ name, ssh: { address: ssh.address ?? name, ...ssh } });
const plan = (h: ReturnType<typeof host>, ssh: PlaybookSsh, config = '') => planSsh(h, ssh, configOf(config), local);

const CONFIG = `
Host edge-*
  HostName %h.dc1.example
  User cfg-user
  Port 2222
  IdentityFile ~/.ssh/%r@%h
  IdentityFile ~/.ssh/fleet
  ProxyJump jump
  ConnectTimeout 4
  ServerAliveInterval 20
Host jump
  HostName 203.0.113.7
  User jumper
  IdentityFile ~/.ssh/jump_key
  IdentitiesOnly yes
`;

describe('ssh plan: precedence (playbook, then ~/.ssh/config, then defaults)', () => {
  it('a bare host name goes through ~/.ssh/config: HostName, User, Port, IdentityFile with tokens', () => {
    const p = plan(host('edge-1'), {}, CONFIG);
    expect(p.target).to.include({ label: 'edge-1', address: 'edge-1.dc1.example', port: 2222, user: 'cfg-user', connectTimeoutMs: 4000, keepaliveIntervalMs: 20_000, agent: '/run/agent.sock' });
    expect(p.target.identityFiles).to.deep.equal([
      { path: '/home/op/.ssh/cfg-user@edge-1.dc1.example', explicit: false },
      { path: '/home/op/.ssh/fleet', explicit: false },
    ]);
  });

  it('the playbook beats the config: user, port, identity_file (tried first), connect_timeout', () => {
    const p = plan(host('edge-1', { user: 'deploy', port: 22, identityFile: '~/.ssh/deploy' }), { connect_timeout: '3s' }, CONFIG);
    expect(p.target).to.include({ user: 'deploy', port: 22, connectTimeoutMs: 3000 });
    expect(p.target.identityFiles[0]).to.deep.equal({ path: '/home/op/.ssh/deploy', explicit: true });
    expect(p.target.identityFiles[1]!.path).to.equal('/home/op/.ssh/deploy@edge-1.dc1.example'); // %r is the final user
  });

  it('an explicit address is what `ssh` is given: Host patterns match it', () => {
    expect(plan(host('web', { address: '10.1.2.3' }), {}, CONFIG).target.address).to.equal('10.1.2.3');
    expect(plan(host('web', { address: 'edge-7' }), {}, CONFIG).target.address).to.equal('edge-7.dc1.example');
  });

  it('defaults without config: local user, port 22, ~/.ssh/id_* keys, ~/.ssh/known_hosts, strict, 10s', () => {
    const p = plan(host('plain'), {});
    expect(p.jumps).to.deep.equal([]);
    expect(p.target).to.include({ address: 'plain', port: 22, user: 'op', hostKeyChecking: 'strict', connectTimeoutMs: 10_000, hashKnownHosts: false });
    expect(p.target.identityFiles.map((i) => i.path)).to.deep.equal(['/home/op/.ssh/id_rsa', '/home/op/.ssh/id_ecdsa', '/home/op/.ssh/id_ed25519']);
    expect(p.target.knownHostsFiles).to.deep.equal(['/home/op/.ssh/known_hosts', '/home/op/.ssh/known_hosts2']);
    expect(p.target.globalKnownHostsFiles).to.deep.equal(['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']);
  });

  it('host key checking: the playbook, else StrictHostKeyChecking (named in the warning), else strict', () => {
    const cfg = 'Host lax\n  StrictHostKeyChecking no\nHost new\n  StrictHostKeyChecking accept-new\nHost ask\n  StrictHostKeyChecking ask\n';
    expect(plan(host('lax'), {}, cfg).target).to.include({ hostKeyChecking: 'off', hostKeyCheckingFrom: 'StrictHostKeyChecking no at /home/op/.ssh/config:2' });
    expect(plan(host('new'), {}, cfg).target.hostKeyChecking).to.equal('accept-new');
    expect(plan(host('ask'), {}, cfg).target.hostKeyChecking, 'no one to ask: strict').to.equal('strict');
    expect(plan(host('lax'), { host_key_checking: 'strict' }, cfg).target.hostKeyChecking).to.equal('strict');
  });

  it('known_hosts: the playbook file alone; else UserKnownHostsFile with tokens', () => {
    const cfg = 'UserKnownHostsFile ~/.ssh/kh_%h /shared/known_hosts\nGlobalKnownHostsFile none\n';
    expect(plan(host('a'), {}, cfg).target).to.deep.include({ knownHostsFiles: ['/home/op/.ssh/kh_a', '/shared/known_hosts'], globalKnownHostsFiles: [] });
    expect(plan(host('a'), { known_hosts: '~/team_known_hosts' }, cfg).target).to.deep.include({ knownHostsFiles: ['/home/op/team_known_hosts'], globalKnownHostsFiles: [] });
  });

  it('IdentityAgent none turns the agent off; IdentitiesOnly is carried', () => {
    const p = plan(host('x'), {}, 'IdentityAgent none\nIdentitiesOnly yes\n');
    expect(p.target).to.include({ agent: null, identitiesOnly: true });
  });
});

describe('ssh plan: bastions', () => {
  it('a jump host is resolved through the config like any host, with its own user and key', () => {
    const p = plan(host('edge-1'), {}, CONFIG);
    expect(p.jumps).to.have.length(1);
    expect(p.jumps[0]).to.include({ label: 'jump', address: '203.0.113.7', port: 22, user: 'jumper', identitiesOnly: true });
    expect(p.jumps[0]!.identityFiles).to.deep.equal([{ path: '/home/op/.ssh/jump_key', explicit: false }]);
  });

  it('the playbook proxy_jump beats ProxyJump; `none` turns it off', () => {
    expect(plan(host('edge-1'), { proxy_jump: 'ops@other:2200' }, CONFIG).jumps.map((j) => [j.label, j.user, j.address, j.port])).to.deep.equal([['other', 'ops', 'other', 2200]]);
    expect(plan(host('edge-1'), { proxy_jump: 'none' }, CONFIG).jumps).to.deep.equal([]);
  });

  it('several hops, in order; the first hop\'s own ProxyJump goes before it', () => {
    const cfg = 'Host j1\n  ProxyJump j0\nHost j2\n  ProxyJump ignored\n';
    expect(plan(host('t'), { proxy_jump: 'j1,j2' }, cfg).jumps.map((j) => j.label)).to.deep.equal(['j0', 'j1', 'j2']);
  });

  it('playbook security settings apply to bastions; its user, port and identity do not (but the key is a fallback)', () => {
    const p = plan(host('t', { user: 'deploy', port: 2200, identityFile: '~/.ssh/deploy' }), { proxy_jump: 'b', host_key_checking: 'accept-new', known_hosts: '/kh', connect_timeout: '2s', identity_file: '~/.ssh/deploy' });
    expect(p.jumps[0]).to.deep.include({ user: 'op', port: 22, hostKeyChecking: 'accept-new', knownHostsFiles: ['/kh'], connectTimeoutMs: 2000 });
    expect(p.jumps[0]!.identityFiles).to.deep.equal([{ path: '/home/op/.ssh/deploy', explicit: true }]);
  });

  it('a jump loop is refused', () => {
    expect(() => plan(host('t'), { proxy_jump: 'a' }, 'Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n')).to.throw(/more than 8 hops deep/);
  });
});

describe('ssh plan: ProxyCommand', () => {
  // the command line is the one `ssh -v -F FILE t` logs as "Executing proxy command:"
  const cfg = 'Host t\n  HostName 10.0.0.5\n  Port 2200\n  User ops\n  ProxyCommand connect-proxy -S %r@proxy:1080 %h %p  # via %n\nHost *\n  ProxyJump later\n';

  it('is honoured with %h %p %r %n expanded, run through exec, and takes the slot before a later ProxyJump', () => {
    const p = plan(host('t'), {}, cfg);
    expect(p.jumps).to.deep.equal([]);
    expect(p.target.proxyCommand).to.deep.equal({ command: 'exec connect-proxy -S ops@proxy:1080 10.0.0.5 2200  # via t', at: '/home/op/.ssh/config:5' });
    // the playbook's user and port are what the command is told
    expect(plan(host('t', { user: 'deploy', port: 22 }), {}, cfg).target.proxyCommand?.command).to.equal('exec connect-proxy -S deploy@proxy:1080 10.0.0.5 22  # via t');
  });

  it('the playbook proxy_jump beats it (documented: ssh.proxy_jump beats both); a ProxyJump first takes the slot', () => {
    expect(plan(host('t'), { proxy_jump: 'none' }, cfg)).to.deep.include({ jumps: [] });
    expect(plan(host('t'), { proxy_jump: 'none' }, cfg).target.proxyCommand).to.equal(undefined);
    const viaB = plan(host('t'), { proxy_jump: 'b' }, 'Host t\n  ProxyCommand nc %h %p\n');
    expect(viaB.jumps.map((j) => j.label)).to.deep.equal(['b']);
    expect(viaB.target.proxyCommand).to.equal(undefined);
    const first = plan(host('t'), {}, 'Host t\n  ProxyJump j\n  ProxyCommand nc %h %p\n');
    expect(first.jumps.map((j) => j.label)).to.deep.equal(['j']);
    expect(first.target.proxyCommand).to.equal(undefined);
  });

  it('ProxyCommand none clears it; the first ProxyJump hop is dialled through its own ProxyCommand', () => {
    expect(plan(host('t'), {}, 'Host t\n  ProxyCommand none\nHost *\n  ProxyCommand nc %h %p\n').target.proxyCommand).to.equal(undefined);
    const p = plan(host('t'), {}, 'Host t\n  ProxyJump j\nHost j\n  ProxyCommand cloudflared access ssh --hostname %h\n');
    expect(p.jumps[0]!.proxyCommand?.command).to.equal('exec cloudflared access ssh --hostname j');
    expect(p.target.proxyCommand).to.equal(undefined);
  });

  it('refuses a token ssh does not give ProxyCommand, naming where it is', () => {
    expect(() => plan(host('t'), {}, 'Host t\n  ProxyCommand nc %h %p %C\n')).to.throw(/\/home\/op\/\.ssh\/config:2: ProxyCommand: unknown token %C/);
  });
});
