import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LabFleet } from '../../lab/fleet.js';
import { startSshd, type Sshd } from '../../lab/sshd.js';
import type { ResolvedHost } from '../../src/playbook/resolved.js';
import type { Playbook } from '../../src/playbook/schema.js';
import { connector } from '../../src/run/connect.js';
import { OpensshTransport } from '../../src/transport/openssh.js';
import { runCli } from '../cli/run-cli.js';
import { hostState, labFleet } from '../run/lab-helpers.js';

const run = promisify(execFile);

// A host known only through a @cert-authority line in known_hosts: the
// built-in client cannot negotiate certificates, so with default settings
// hotswap hands that host (and only that host) to the system ssh, and says so.
describe('hosts that only the system ssh can reach exactly, with default settings', function () {
  this.timeout(240_000);
  let fleet: LabFleet | undefined;
  const servers: Sshd[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    await fleet?.stop();
    fleet = undefined;
  });

  const keygen = (args: string[]) => run('ssh-keygen', ['-q', ...args]).catch((e: Error) => {
    throw new Error(`ssh-keygen ${args.join(' ')} failed (install openssh-client): ${e.message}`);
  });

  /** A CA in the fleet's directory: "ssh-ed25519 AAAA…" and the file to sign with. */
  async function makeCa(f: LabFleet): Promise<{ key: string; pub: string }> {
    const key = join(f.dir, 'host-ca');
    await keygen(['-t', 'ed25519', '-N', '', '-C', 'hotswap-test-host-ca', '-f', key]);
    return { key, pub: (await readFile(`${key}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ') };
  }

  /** Another sshd for the lab's hosts, presenting a host certificate signed with `sign`; the fleet's key logs in. */
  async function certSshd(f: LabFleet, name: string, sign: string[]): Promise<Sshd> {
    const dir = join(f.dir, name);
    await mkdir(dir, { recursive: true });
    const hostKey = join(dir, 'ssh_host_ed25519_key'); // startSshd keeps a key that exists
    await keygen(['-t', 'ed25519', '-N', '', '-C', name, '-f', hostKey]);
    await keygen(['-h', '-I', name, ...sign, `${hostKey}.pub`]);
    const s = await startSshd({
      dir,
      extraConfig: [`HostCertificate ${hostKey}-cert.pub`],
      authorizedKeys: [await readFile(`${f.sshd.identityFile}.pub`, 'utf8')],
    });
    servers.push(s);
    return s;
  }

  /** The lab playbook with default host key checking, a known_hosts of ours, and per-host ports. */
  async function playbook(f: LabFleet, knownHosts: string, ports: Record<string, number>): Promise<string> {
    const kh = join(f.dir, 'known_hosts');
    await writeFile(kh, knownHosts);
    const file = join(f.dir, 'fleet.yaml');
    const text = f.playbook({ sshPorts: ports });
    if (!text.includes('  host_key_checking: strict\n') || !text.includes(`  known_hosts: ${JSON.stringify(f.sshd.knownHostsFile)}\n`)) {
      throw new Error('the lab playbook changed: adapt this test');
    }
    await writeFile(file, text.replace('  host_key_checking: strict\n', '').replace(f.sshd.knownHostsFile, kh));
    return file;
  }

  const note = (host: string) => new RegExp(`hotswap: note: ${host}: its host key is certified by the @cert-authority at \\S+known_hosts:1, which the built-in client cannot check; connecting with the system ssh \\(ssh\\.client: openssh\\)`);

  it('upgrades a host known only by its CA through the system ssh, and a host with a recorded key through the built-in client, in one run', async () => {
    fleet = await labFleet(2);
    const ca = await makeCa(fleet);
    const certified = await certSshd(fleet, 'certified', ['-s', ca.key, '-n', '127.0.0.1', '-V', '-1h:+1h']);
    // lab-1: only the CA line; lab-2: the lab sshd's own key (the port-less CA pattern matches it too)
    const file = await playbook(fleet, `@cert-authority [127.0.0.1]:${certified.port},127.0.0.1 ${ca.pub}\n[127.0.0.1]:${fleet.sshd.port} ${fleet.sshd.hostKeyPublic}\n`, { 'lab-1': certified.port });
    expect(await readFile(file, 'utf8')).not.to.match(/host_key_checking|client:/);

    const r = await runCli(['apply', file, '--yes']);
    expect(r.code, r.stderr + r.stdout).to.equal(0);
    for (const h of fleet.hosts) expect(hostState(h).exeSha, h.name).to.equal(fleet.builds.new.sha256);
    expect(r.stderr).to.match(note('lab-1'));
    expect(r.stderr.match(/hotswap: note: /g), 'one note, for lab-1 only').to.have.length(1);
    expect(r.stderr).not.to.match(/lab-2: .*system ssh/);

    // status reads both again; the note is said again, once for the host
    const s = await runCli(['status', file]);
    expect(s.code, s.stderr + s.stdout).to.equal(0);
    expect(s.stderr.match(note('lab-1'))).to.have.length(1);

    // `client: builtin`, written out, is kept: the built-in client cannot check the certificate, and says why first
    await writeFile(file, (await readFile(file, 'utf8')).replace(/^ssh:\n/m, 'ssh:\n  client: builtin\n'));
    const pinned = await runCli(['status', file]);
    expect(pinned.code, pinned.stderr + pinned.stdout).to.equal(3);
    expect(pinned.stderr).to.match(/hotswap: warning: lab-1: its host key is certified by the @cert-authority at \S+known_hosts:1, which the built-in client cannot check; ssh\.client: builtin is set, so the built-in client tries anyway/);
    expect(pinned.stderr).not.to.match(/hotswap: note: /);
    expect(pinned.stdout).to.match(/lab-1: UNREACHABLE: .*unknown host key ssh-ed25519 SHA256:\S+: not in \S+known_hosts/);
    expect(pinned.stdout).not.to.match(/lab-2: UNREACHABLE/);
  });

  it('refuses a host whose certificate ssh refuses (expired, wrong name) as unreachable, in ssh\'s words', async () => {
    fleet = await labFleet(2);
    const ca = await makeCa(fleet);
    const expired = await certSshd(fleet, 'expired', ['-s', ca.key, '-n', '127.0.0.1', '-V', '-2h:-1h']);
    const wrongName = await certSshd(fleet, 'wrong-name', ['-s', ca.key, '-n', 'edge.example', '-V', '-1h:+1h']);
    const file = await playbook(fleet, `@cert-authority [127.0.0.1]:${expired.port},[127.0.0.1]:${wrongName.port} ${ca.pub}\n`, { 'lab-1': expired.port, 'lab-2': wrongName.port });
    const before = fleet.hosts.map(hostState);

    const r = await runCli(['apply', file, '--yes']);
    expect(r.code, r.stderr + r.stdout).to.equal(3);
    expect(r.stderr).to.match(note('lab-1'));
    expect(r.stderr).to.match(note('lab-2'));
    const out = r.stdout + r.stderr;
    expect(out).to.match(/lab-1[^\n]*unreachable[^\n]*Host key verification failed/i);
    expect(out).to.match(/lab-2[^\n]*unreachable[^\n]*Host key verification failed/i);
    for (const [i, h] of fleet.hosts.entries()) expect(hostState(h).pid, h.name).to.equal(before[i]!.pid);

    const s = await runCli(['status', file]);
    expect(s.code, s.stderr + s.stdout).to.equal(3);
    expect(s.stdout).to.match(/lab-1: UNREACHABLE: .*Host key verification failed/);
  });

  it('hands a host whose config names a PKCS11Provider to the system ssh, and keeps the others on the built-in client', async () => {
    fleet = await labFleet(1);
    const config = join(fleet.dir, 'ssh_config');
    // the provider does not load: ssh says so and goes on with the identity file, as it would for the operator
    await writeFile(config, 'Host token-host\n  HostName 127.0.0.1\n  PKCS11Provider /nonexistent/libpkcs11.so\n');
    const playbook = {
      version: 1, name: 't', hosts: ['lab-1'], nginx: { prefix: '/' }, steps: [{ verify: {} }],
      ssh: { known_hosts: fleet.sshd.knownHostsFile, config_file: config },
    } as Playbook;
    const notes: string[] = [];
    const connect = connector(playbook, { note: (m, kind) => notes.push(`${kind}: ${m}`) });
    const host = (name: string, address: string): ResolvedHost => ({
      name, connection: 'ssh', ssh: { address, port: fleet!.sshd.port, user: fleet!.user.name, identityFile: fleet!.sshd.identityFile },
      nginx: { prefix: '/', binary: '/', pid_file: '/', conf: '/', error_log: '/' }, steps: [], groups: [],
    });
    for (const [name, address] of [['tok', 'token-host'], ['plain', '127.0.0.1'], ['tok', 'token-host']] as const) {
      const t = await connect(host(name, address));
      try {
        expect((await t.exec(['id', '-un'])).stdout.trim()).to.equal(fleet.user.name);
        expect(t instanceof OpensshTransport, `${name} through the system ssh`).to.equal(name === 'tok');
      } finally {
        await t.close();
      }
    }
    expect(notes).to.deep.equal([`note: tok: PKCS11Provider /nonexistent/libpkcs11.so at ${config}:3 (keys on a token), which the built-in client cannot use; connecting with the system ssh (ssh.client: openssh)`]);
  });
});
