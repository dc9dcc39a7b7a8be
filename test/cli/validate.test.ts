import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './run-cli.js';
import { VALID, writeTemp } from '../playbook/helpers.js';

const noStack = (s: string) => expect(s).not.to.match(/\n\s+at .+:\d+:\d+/);

describe('hotswap validate (CLI)', () => {
  it('exits 0 with a one-line summary for a valid playbook', async () => {
    const r = await runCli(['validate', writeTemp(VALID)]);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/playbook\.yaml: valid: 1 host, 1 batch, 9 steps\n$/);
  });

  it('validates the canonical playbook and the examples', async () => {
    for (const f of ['playbooks/hot-upgrade.yaml', 'examples/fleet/fleet.yaml', 'examples/inventory/upgrade.yaml', 'examples/lab/fleet.yaml', 'examples/debian/fleet.yaml', 'examples/prefix/fleet.yaml']) {
      const r = await runCli(['validate', f]);
      expect(r.code, `${f}: ${r.stderr}`).to.equal(0);
    }
  });

  it('prints every problem as FILE:LINE:COL and exits 2', async () => {
    const file = writeTemp(VALID.replace('prefix:', 'prefx:').replace('signal: WINCH', 'signal: WINCHH'));
    const r = await runCli(['validate', file]);
    expect(r.code).to.equal(2);
    expect(r.stderr.split('\n').filter(Boolean)).to.deep.equal([
      `${file}:6:3: nginx: unknown key "prefx" (did you mean "prefix"?)`,
      `${file}:6:3: nginx: give nginx.prefix (a hand-built nginx, e.g. /usr/local/nginx) or nginx.binary (a packaged one, e.g. /usr/sbin/nginx: its other paths are read from the host)`,
      `${file}:12:13: steps[4].signal: expected one of "USR2", "WINCH", "QUIT", "HUP", "TERM", got the string "WINCHH"`,
      '3 problems found',
    ]);
  });

  const bad: [string, () => string, RegExp][] = [
    ['a missing file', () => '/nonexistent/fleet.yaml', /fleet\.yaml:1:1: no such file/],
    ['a directory', () => mkdtempSync(join(tmpdir(), 'hs-')), /:1:1: is a directory, not a playbook file/],
    ['an empty file', () => writeTemp('  \n'), /:1:1: is empty/],
    ['a file that is not YAML', () => writeTemp('version: [1\nname: x: y\n'), /:\d+:\d+: not valid YAML/],
    ['a YAML list instead of a mapping', () => writeTemp('- a\n- b\n'), /:1:1: a playbook is a YAML mapping/],
    ['duplicate keys', () => writeTemp(VALID.replace('name: test', 'name: test\nname: again')), /:3:1: duplicate key "name"/],
    ['a YAML alias bomb', () => writeTemp(aliasBomb()), /too many YAML alias expansions/],
    ['a 50 MB file', () => writeTemp(Buffer.alloc(50 * 1024 * 1024, 'a')), /too large for a playbook \(50\.0 MiB; the limit is 1 MiB\)/],
    ['a binary file', () => writeTemp(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2])), /is a binary file, not a YAML playbook/],
    ['a path value with a newline', () => writeTemp(VALID.replace('prefix: /usr/local/nginx', 'prefix: "/usr/local/nginx\\n/x"')), /contains a control character/],
    ['a path value with ;', () => writeTemp(VALID.replace('prefix: /usr/local/nginx', 'prefix: "/usr/local;reboot"')), /contains ";"/],
  ];
  for (const [what, make, message] of bad) {
    it(`refuses ${what} with one clear message and exit 2`, async () => {
      const r = await runCli(['validate', make()]);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(message);
      noStack(r.stderr);
    });
  }

  it('refuses a playbook path with a newline or ; in it as a missing file, not as a command', async () => {
    const r = await runCli(['validate', 'fleet.yaml;touch /tmp/hotswap-pwned\n']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/no such file/);
  });
});

describe('hotswap CLI', () => {
  it('prints help and version', async () => {
    const help = await runCli(['--help']);
    expect(help.code).to.equal(0);
    for (const c of ['validate', 'plan', 'apply', 'status', 'rollback']) expect(help.stdout).to.include(`  ${c} `);
    const version = await runCli(['--version']);
    expect(version.stdout).to.match(/^hotswap \d+\.\d+\.\d+\n$/);
  });

  it('prints help for every command', async () => {
    for (const c of ['validate', 'plan', 'apply', 'status', 'rollback']) {
      const r = await runCli([c, '--help']);
      expect(r.code, c).to.equal(0);
      expect(r.stdout).to.match(new RegExp(`^usage: hotswap ${c} <playbook>`));
    }
  });

  it('exits 2 on usage errors', async () => {
    for (const args of [['frobnicate'], ['validate'], ['validate', 'a', 'b'], ['apply', 'x.yaml', '--bogus'], []]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).to.equal(2);
      noStack(r.stderr);
    }
  });
});

function aliasBomb(): string {
  const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
  return lines.join('\n') + '\n';
}
