// The command line: a wrong flag or command gets one line naming it (and what
// was meant), exit 2; `plan --offline` previews a playbook whose build is not here.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './run-cli.js';
import { VALID, writeTemp } from '../playbook/helpers.js';

async function usage(args: string[]): Promise<string> {
  const r = await runCli(args);
  expect(r.code, r.stderr).to.equal(2);
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(lines, r.stderr).to.have.length(1);
  return lines[0]!;
}

describe('hotswap command line', () => {
  it('a misspelt flag: names it and the flag meant', async () => {
    expect(await usage(['plan', 'x.yaml', '--fromat', 'json'])).to.equal('hotswap: plan: unknown option --fromat (did you mean --format?) (see hotswap plan --help)');
    expect(await usage(['apply', 'x.yaml', '--dryrun'])).to.match(/unknown option --dryrun \(did you mean --dry-run\?\)/);
  });

  it("another command's flag: says whose it is", async () => {
    expect(await usage(['plan', 'x.yaml', '--dry-run'])).to.match(/unknown option --dry-run \(--dry-run is an option of apply\)/);
  });

  it('an unknown short flag, a missing value, a value where none is taken', async () => {
    expect(await usage(['plan', 'x.yaml', '-z'])).to.match(/^hotswap: plan: unknown option -z /);
    expect(await usage(['apply', 'x.yaml', '--limit'])).to.match(/^hotswap: apply: --limit needs a value /);
    expect(await usage(['plan', 'x.yaml', '--offline=yes'])).to.match(/^hotswap: plan: --offline takes no value /);
  });

  it('a misspelt command: names the command meant', async () => {
    expect(await usage(['valdate', 'x.yaml'])).to.match(/^hotswap: unknown command "valdate" \(did you mean validate\?\)/);
  });
});

describe('hotswap plan --offline', () => {
  it('works with no build file present: the path shown, its hash unknown', async () => {
    const file = writeTemp(VALID);
    const r = await runCli(['plan', file, '--offline']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include(`upload ${join(file, '..', 'nginx')} (sha256 unknown: the file is not on this machine)`);
    expect(r.stdout).not.to.match(/new build sha256/);
  });

  it('hashes a build that is present, and still refuses one whose sha256 does not match', async () => {
    const file = writeTemp(VALID.replace('src: ./nginx', `src: ./nginx, sha256: "${'0'.repeat(64)}"`));
    writeFileSync(join(file, '..', 'nginx'), 'not really nginx\n');
    const r = await runCli(['plan', file, '--offline']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/has sha256 [0-9a-f]{64}, but the playbook expects 0{64}/);
    const ok = writeTemp(VALID);
    writeFileSync(join(ok, '..', 'nginx'), 'not really nginx\n');
    const r2 = await runCli(['plan', ok, '--offline']);
    expect(r2.code, r2.stderr).to.equal(0);
    expect(r2.stdout).to.match(/\(sha256 [0-9a-f]{64}\)/);
  });

  it('previews every shipped example, wherever it is run from', async () => {
    for (const f of ['playbooks/hot-upgrade.yaml', 'examples/fleet/fleet.yaml', 'examples/inventory/upgrade.yaml', 'examples/lab/fleet.yaml', 'examples/debian/fleet.yaml', 'examples/prefix/fleet.yaml']) {
      const r = await runCli(['plan', f, '--offline']);
      expect(r.code, `${f}: ${r.stderr}`).to.equal(0);
      expect(r.stdout).to.match(/^plan: /);
    }
  });
});

describe('host patterns cannot hang', () => {
  const longName = 'a'.repeat(5000) + 'b';
  it('--limit "~^(a+)+$" against a 5000-character host name', async () => {
    const file = writeTemp(VALID.replace('  - edge-1', `  - edge-1\n  - ${longName}`));
    const t0 = Date.now();
    const r = await runCli(['plan', file, '--offline', '--limit', '~^(a+)+$']);
    expect(Date.now() - t0).to.be.below(15_000);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/--limit "~\^\(a\+\)\+\$" matches no host of the playbook/);
  });

  it('hosts: "~^(a+)+$" over an inventory of long names, and a backreference refused', async () => {
    const file = writeTemp(VALID.replace('hosts:\n  - edge-1', 'inventory: inv.ini\nhosts: "~^(a+)+$"'));
    writeFileSync(join(file, '..', 'inv.ini'), `[edge]\n${Array.from({ length: 200 }, (_, i) => `${'a'.repeat(200)}${i}b`).join('\n')}\n`);
    const t0 = Date.now();
    const r = await runCli(['validate', file]);
    expect(Date.now() - t0).to.be.below(15_000);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/hosts: the pattern matches no host for: ~\^\(a\+\)\+\$/);
    const back = writeTemp(VALID.replace('hosts:\n  - edge-1', 'inventory: inv.ini\nhosts: "~(a)\\\\1"'));
    writeFileSync(join(back, '..', 'inv.ini'), '[edge]\naa\n');
    const rb = await runCli(['validate', back]);
    expect(rb.code).to.equal(2);
    expect(rb.stderr).to.match(/is not a valid regular expression: backreferences are not supported in a host pattern/);
  });
});
