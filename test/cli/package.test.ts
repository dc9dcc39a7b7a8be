import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI } from './run-cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  return r;
}

/** npm pack, without the prepare script's build: what the tarball holds, by path. */
function packed(dest?: string): { files: string[]; filename: string } {
  expect(existsSync(CLI), `${CLI} is missing: run npm run build`).to.equal(true);
  const r = run('npm', ['pack', '--json', '--ignore-scripts', ...(dest ? ['--pack-destination', dest] : ['--dry-run'])]);
  expect(r.status, r.stderr).to.equal(0);
  const [pack] = JSON.parse(r.stdout) as { files: { path: string }[]; filename: string }[];
  return { files: pack!.files.map((f) => f.path).sort(), filename: pack!.filename };
}

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

const closedPort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

describe('the package: npm pack', () => {
  it('ships one copy of the program (the bundle), the schema, the playbooks, the examples, the LICENSE and the README', () => {
    const { files } = packed();
    const code = files.filter((f) => /\.(c|m)?js$/.test(f));
    expect(code).to.deep.equal(['dist/hotswap.cjs']);
    for (const dir of ['schemas', 'playbooks', 'examples']) expect(files).to.include.members(filesUnder(dir));
    expect(files).to.include.members(['LICENSE', 'README.md', 'package.json']);
    const other = files.filter((f) => !/^(dist\/hotswap\.cjs|package\.json|LICENSE|README\.md|(schemas|playbooks|examples)\/.+)$/.test(f));
    expect(other, 'not part of the package').to.deep.equal([]);
  });

  it('runs from the packed files alone, with ssh2 the only package it loads from node_modules', async function () {
    this.timeout(180_000);
    const dir = mkdtempSync(join(tmpdir(), 'hotswap-pack-'));
    try {
      const { filename } = packed(dir);
      const app = join(dir, 'node_modules', 'hotswap');
      mkdirSync(app, { recursive: true });
      const tar = run('tar', ['-xzf', join(dir, filename), '-C', app, '--strip-components=1']);
      expect(tar.status, tar.stderr).to.equal(0);
      // ssh2 as npm would install it beside the package; yaml and listr2 are not there
      symlinkSync(join(ROOT, 'node_modules', 'ssh2'), join(dir, 'node_modules', 'ssh2'));
      const bin = join(app, 'dist', 'hotswap.cjs');

      const version = run(process.execPath, [bin, '--version'], { cwd: dir });
      expect(version.status, version.stderr).to.equal(0);
      expect(version.stdout).to.match(/^hotswap \d+\.\d+\.\d+\n$/);
      const valid = run(process.execPath, [bin, 'validate', join(app, 'examples', 'fleet', 'fleet.yaml')], { cwd: dir });
      expect(valid.status, valid.stderr).to.equal(0);
      expect(valid.stdout).to.match(/fleet\.yaml: valid: 4 hosts/);

      // a connection loads ssh2: without it this says "Cannot find module 'ssh2/lib/client.js'"
      const keygen = run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'key')]);
      expect(keygen.status, `ssh-keygen failed (install openssh-client): ${keygen.stderr}`).to.equal(0);
      writeFileSync(join(dir, 'known_hosts'), '');
      writeFileSync(join(dir, 'fleet.yaml'), [
        'version: 1',
        'name: packed',
        'hosts:',
        `  - { name: edge-1, address: 127.0.0.1, port: ${await closedPort()} }`,
        'ssh: { identity_file: ./key, known_hosts: ./known_hosts, config_file: /dev/null, connect_timeout: 5s }',
        'nginx: { prefix: /usr/local/nginx }',
        'steps:',
        '  - signal: HUP',
        '',
      ].join('\n'));
      const status = run(process.execPath, [bin, 'status', join(dir, 'fleet.yaml')], { cwd: dir, env: { HOME: dir, SSH_AUTH_SOCK: '' } });
      expect(status.stdout + status.stderr).to.match(/edge-1: UNREACHABLE: edge-1 \(127\.0\.0\.1:\d+\): connection refused\n/);
      expect(status.status).to.equal(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
