// A confirmation answered on a real terminal (a pty from util-linux `script`):
// "no" halts before any host is contacted (exit 4), "no terminal" is a usage
// error (exit 2). The host's port is closed: contacting it would say so.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, runCli } from './run-cli.js';
import { Exit } from '../../src/errors.js';

const PLAYBOOK = ['version: 1', 'hosts:', '  - { name: edge-1, address: 127.0.0.1, port: 1 }', 'ssh: { connect_timeout: 5s }', 'nginx: { prefix: /usr/local/nginx }', 'steps:', '  - signal: HUP', ''].join('\n');

/** Runs the CLI on a pseudo-terminal, typing `answer`. */
function onTerminal(args: string[], answer: string, cwd: string): { code: number | null; out: string } {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['-qec', command, '/dev/null'], { cwd, input: answer, encoding: 'utf8', timeout: 60_000 });
  expect(r.error, 'util-linux `script` is needed (Debian: bsdutils)').to.equal(undefined);
  return { code: r.status, out: r.stdout };
}

describe('confirmations', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hotswap-confirm-'));
    writeFileSync(join(dir, 'fleet.yaml'), PLAYBOOK);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const command of ['apply', 'rollback']) {
    it(`${command}: "no" on the terminal halts with exit 4, contacting no host`, () => {
      const r = onTerminal([command, 'fleet.yaml'], 'n\n', dir);
      expect(r.out).to.match(/\? \[y\/N\]/);
      expect(r.out).to.include('hotswap: the operator answered no: no host was contacted, nothing was changed');
      expect(r.out).not.to.match(/UNREACHABLE|connection refused/);
      expect(r.code).to.equal(Exit.refused);
    });

    it(`${command}: no terminal and no --yes is a usage error, exit 2`, async () => {
      const r = await runCli([command, 'fleet.yaml'], { cwd: dir });
      expect(r.stderr).to.match(/no terminal to ask on: refusing \(pass --yes to confirm\)/);
      expect(r.code).to.equal(Exit.usage);
    });
  }
});
