import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { loadPlaybook } from '../../src/playbook/load.js';
import { checkMasterLayout, resolveLayout } from '../../src/run/host-layout.js';
import type { Command, ExecResult, Transport } from '../../src/transport/transport.js';
import { problemsOf, VALID, writeTemp } from '../playbook/helpers.js';

// Real output of Debian 12's packaged nginx (test/fixtures/layout, lab/layout-capture.ts).
const fx = (name: string) => readFileSync(new URL(`../fixtures/layout/${name}`, import.meta.url), 'utf8');
const BINARY_ONLY = VALID.replace('prefix: /usr/local/nginx', 'binary: /usr/sbin/nginx');

/** A host that answers `BINARY -V` and `BINARY -T` with captured output, and records what it was asked. */
function host(answers: { V: ExecResult; T: ExecResult }): { t: Transport; asked: string[][] } {
  const asked: string[][] = [];
  const answer = (argv: readonly string[]) => {
    asked.push([...argv]);
    return argv[1] === '-V' ? answers.V : argv[1] === '-T' ? answers.T : { code: 127, stdout: '', stderr: 'unexpected' };
  };
  const t: Transport = {
    host: 'h',
    exec: async (argv) => answer(argv),
    sequence: (cmds: readonly Command[]) => {
      let ok = true;
      return cmds.map((c) => {
        const r = ok ? answer(c.argv) : undefined;
        if (r && r.code !== 0) ok = false;
        return r ? Promise.resolve(r) : Promise.reject(new Error('not run'));
      });
    },
    put: async () => undefined,
    openTcp: async () => { throw new Error('no'); },
    close: async () => undefined,
  };
  return { t, asked };
}

describe('package layouts: a playbook naming only the binary', () => {
  it('validates: prefix is optional with binary; the paths to read from the host hold placeholders, not paths', () => {
    expect(problemsOf(BINARY_ONLY)).to.deep.equal([]);
    const [h] = loadPlaybook(writeTemp(BINARY_ONLY)).hosts;
    expect(h!.nginx.binary).to.equal('/usr/sbin/nginx');
    expect(h!.nginx.derive).to.deep.equal(['pid_file', 'conf', 'error_log']);
    expect(h!.nginx.pid_file.startsWith('/')).to.equal(false);
  });

  it('given paths are used as given, only the others are read from the host', () => {
    const [h] = loadPlaybook(writeTemp(BINARY_ONLY.replace('binary: /usr/sbin/nginx', 'binary: /usr/sbin/nginx\n  pid_file: /run/nginx.pid\n  conf: /etc/nginx/nginx.conf\n  error_log: /var/log/nginx/error.log'))).hosts;
    expect(h!.nginx.derive).to.equal(undefined);
    expect(h!.nginx).to.include({ pid_file: '/run/nginx.pid', conf: '/etc/nginx/nginx.conf', error_log: '/var/log/nginx/error.log' });
  });

  it('neither prefix nor binary: one problem saying what to give', () => {
    const text = VALID.replace('nginx:\n  prefix: /usr/local/nginx', 'nginx:\n  pid_file: /run/nginx.pid');
    const problems = problemsOf(text);
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/give nginx\.prefix .* or nginx\.binary/);
  });

  it('a step may not use a path that is only known on the host', () => {
    const text = BINARY_ONLY.replace('  - verify: { running_binary: new }', '  - verify: { running_binary: new, http: [{ url: "http://127.0.0.1/{{ pid_file }}" }] }');
    expect(problemsOf(text).join('\n')).to.match(/pid_file/);
  });

  it("reads Debian's paths from `nginx -V` and `nginx -T` in one sequence, with where each came from", async () => {
    const [h] = loadPlaybook(writeTemp(BINARY_ONLY)).hosts;
    const { t, asked } = host({ V: { code: 0, stdout: '', stderr: fx('debian-nginx-V.txt') }, T: { code: 0, stdout: fx('debian-nginx-T.txt'), stderr: '' } });
    const l = await resolveLayout(t, h!);
    expect(asked).to.deep.equal([['/usr/sbin/nginx', '-V'], ['/usr/sbin/nginx', '-T']]);
    expect(l.problems).to.deep.equal([]);
    expect(l.host.nginx).to.include({ pid_file: '/run/nginx.pid', conf: '/etc/nginx/nginx.conf', error_log: '/var/log/nginx/error.log' });
    expect(l.lines[1]).to.match(/^pid_file \/run\/nginx\.pid \(pid directive in \/etc\/nginx\/nginx\.conf:\d+\)$/);
    // the running master's command line (Debian's: -g 'daemon on; master_process on;') moves nothing
    const master = { isNginxMaster: true, args: { argv0: '/usr/sbin/nginx', words: [], globals: 'daemon on; master_process on;', ambiguous: false }, cwd: '/' };
    expect(checkMasterLayout(l, master as never)).to.equal('');
    // a master started with -g 'pid /run/other.pid;' writes elsewhere: refused, naming what to give
    const moved = checkMasterLayout(l, { ...master, args: { ...master.args, globals: 'pid /run/other.pid;' } } as never);
    expect(moved).to.match(/moves pid_file to \/run\/other\.pid .*give nginx\.pid_file/);
  });

  it('a config nginx cannot dump: the compiled defaults, said so; an error log to stderr only is refused, naming nginx.error_log', async () => {
    const [h] = loadPlaybook(writeTemp(BINARY_ONLY)).hosts;
    const { t } = host({ V: { code: 0, stdout: '', stderr: fx('debian-nginx-V.txt') }, T: { code: 1, stdout: '', stderr: 'nginx: [emerg] open() "/etc/nginx/nginx.conf" failed (13: Permission denied)' } });
    const l = await resolveLayout(t, h!);
    expect(l.host.nginx.pid_file).to.equal('/run/nginx.pid'); // --pid-path
    expect(l.warnings.join('\n')).to.match(/could not dump the config .*Permission denied/);
    expect(l.problems.join('\n')).to.match(/give nginx\.error_log/);
  });

  it('a binary that does not run: refused, naming the keys to give', async () => {
    const [h] = loadPlaybook(writeTemp(BINARY_ONLY)).hosts;
    const { t } = host({ V: { code: 127, stdout: '', stderr: 'sh: 1: /usr/sbin/nginx: not found' }, T: { code: 0, stdout: '', stderr: '' } });
    const l = await resolveLayout(t, h!);
    expect(l.problems[0]).to.match(/\/usr\/sbin\/nginx -V` exited 127: .*not found; give nginx\.pid_file, nginx\.conf, nginx\.error_log/);
  });

});
