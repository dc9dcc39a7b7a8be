// Every test run gets a temp directory of its own: whatever the tests (and the
// CLI, sshd and nginx they start) make under os.tmpdir() - lab fleets with
// their generated ssh keys, playbooks - lands there and is removed when the
// run ends, so no run leaves keys or folders behind in /tmp. Loaded by mocha
// (`require` in .mocharc*.json) before any test file, so module-level
// tmpdir() calls see it too.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'hotswap-tests-'));
chmodSync(dir, 0o755); // the lab's unprivileged user reaches its fleet's prefix through it
process.env.TMPDIR = dir;

export const mochaHooks = {
  afterAll(): void {
    rmSync(dir, { recursive: true, force: true });
  },
};
