// apply's own options, refused before any host is contacted (exit 2).
import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VALID, writeTemp } from '../playbook/helpers.js';
import { runCli } from './run-cli.js';

function playbook(): string {
  // port 1 on loopback: a host that is contacted would show up as unreachable
  const file = writeTemp(VALID.replace('  - edge-1\n', '  - { name: edge-1, address: 127.0.0.1, port: 1 }\n'), 'fleet.yaml');
  writeFileSync(join(file, '..', 'nginx'), '#!/bin/sh\n');
  return file;
}

describe('apply options (CLI)', () => {
  for (const n of ['0', '-1', '2.5', 'many']) {
    it(`refuses --concurrency ${n}`, async () => {
      const r = await runCli(['apply', playbook(), '--yes', `--concurrency=${n}`]);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.match(/--concurrency takes a whole number of hosts, at least 1/);
    });
  }

  it('refuses a --report it cannot write before contacting any host', async () => {
    const file = playbook();
    const report = join(file, '..', 'no-such-dir', 'report.json');
    const r = await runCli(['apply', file, '--yes', '--json', '--report', report]);
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr).to.match(/--report .*report\.json: cannot write it: ENOENT/);
    expect(r.stderr).not.to.match(/unreachable|batch 1:/);
    expect(r.stdout).to.equal('');
    expect(existsSync(report)).to.equal(false);
  });

  it('writes the report of a run whose hosts are all unreachable (exit 3), JSON only on stdout', async () => {
    const file = playbook();
    const report = join(file, '..', 'report.json');
    const r = await runCli(['apply', file, '--yes', '--json', '--report', report]);
    expect(r.code, r.stderr).to.equal(3);
    const types = r.stdout.trim().split('\n').map((l) => JSON.parse(l).type);
    expect(types.slice(0, 3)).to.deep.equal(['run-start', 'batch-start', 'host-start']);
    expect(types.slice(-4)).to.deep.equal(['host-end', 'batch-end', 'recap', 'run-end']);
    expect(r.stderr).to.match(/^edge-1 +ok=0 changed=0 failed=0 rolled_back=0 unreachable=1 skipped=0 +\S+ +unreachable: edge-1 \(127\.0\.0\.1:1\)/m);
    const doc = JSON.parse(readFileSync(report, 'utf8'));
    expect(doc).to.include({ exitCode: 3, halted: false });
    expect(doc.hosts).to.have.length(1);
    expect(doc.hosts[0]).to.include({ host: 'edge-1', batch: 1, result: 'unreachable' });
  });
});
