import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseFacts } from '../../src/nginx/facts.js';
import { preflightRefusals } from '../../src/run/preflight.js';

// real facts of a single serving master, captured from Debian's nginx
const FACTS = parseFacts(readFileSync(new URL('../fixtures/nginx/facts-single-master.txt', import.meta.url), 'utf8'));
const build = { path: '/tmp/nginx', sha256: 'a'.repeat(64), size: 1_264_552, bytes: Buffer.alloc(0) };

describe('pre-flight refusals', () => {
  it('lets a healthy, daemonized master through', () => {
    expect(FACTS.blockers).to.deep.equal([]);
    expect(preflightRefusals({ ...FACTS, binary: { ...FACTS.binary, dirFreeBytes: 10 * 1024 ** 3 } }, build, true)).to.deep.equal([]);
  });

  it('refuses when the binary directory has no room for the upload and the backup', () => {
    const facts = { ...FACTS, binary: { ...FACTS.binary, dirFreeBytes: 5 * 1024 * 1024 } };
    const [reason] = preflightRefusals(facts, build, true);
    expect(reason).to.match(/^not enough disk space beside .*: 5\.0 MiB free, \d+\.\d MiB needed for the upload and the backup$/);
  });

  it('does not count an upload already sent beside the binary while the facts were read', () => {
    // room for the backup and the margin, not for the upload on top: the upload may already be in the free space seen
    const need = (FACTS.binary.size ?? 0) + 16 * 1024 * 1024;
    const facts = { ...FACTS, binary: { ...FACTS.binary, dirFreeBytes: need + build.size / 2 } };
    expect(preflightRefusals(facts, build, true)).to.have.length(1);
    expect(preflightRefusals(facts, build, true, true)).to.deep.equal([]);
    const [reason] = preflightRefusals({ ...facts, binary: { ...facts.binary, dirFreeBytes: 1024 * 1024 } }, build, true, true);
    expect(reason).to.match(/MiB needed for the backup$/);
  });
});
