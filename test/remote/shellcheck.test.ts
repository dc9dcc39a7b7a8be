// Every host script passes shellcheck as POSIX sh, following its
// `. ./lib/NAME.sh` lines as the build inlines them (src/remote/.shellcheckrc).
import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../../src/remote/', import.meta.url));

describe('host scripts: shellcheck', () => {
  it('finds nothing in src/remote/*.sh and lib/*.sh', async function () {
    this.timeout(120_000);
    try {
      execFileSync('shellcheck', ['--version'], { stdio: 'ignore' });
    } catch {
      expect.fail('shellcheck is not installed: apt-get install shellcheck (the Debian package; lab/packages.ts lists it)');
    }
    const files = [...readdirSync(dir).filter((f) => f.endsWith('.sh')), ...readdirSync(`${dir}/lib`).filter((f) => f.endsWith('.sh')).map((f) => `lib/${f}`)];
    expect(files).to.include.members(['facts.sh', 'wait.sh', 'signal.sh', 'lib/kv.sh']);
    // run from the folder: `. ./lib/kv.sh` resolves there, and .shellcheckrc applies
    const out = await new Promise<{ code: number; text: string }>((resolve) =>
      execFile('shellcheck', ['-f', 'gcc', ...files], { cwd: dir, encoding: 'utf8' }, (err, stdout, stderr) =>
        resolve({ code: err ? Number(err.code ?? 1) : 0, text: stdout + stderr })),
    );
    expect(out.text, out.text).to.equal('');
    expect(out.code).to.equal(0);
  });
});
