// validate on hostile input, through the compiled CLI as an operator runs it:
// exit 2, FILE:LINE:COL, a few lines, no stack, no Node warning, no hang.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from './run-cli.js';
import { VALID, writeTemp } from '../playbook/helpers.js';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));

async function refused(file: string, opts: { maxMs?: number } = {}) {
  const t0 = Date.now();
  const r = await runCli(['validate', file], { timeoutMs: 60_000 });
  const ms = Date.now() - t0;
  expect(r.code, r.stderr).to.equal(2);
  expect(r.stderr).not.to.match(/\n\s+at .+:\d+:\d+/); // no stack
  expect(r.stderr).not.to.match(/internal error|Warning:|\(node:\d+\)/);
  // eslint-disable-next-line no-control-regex
  expect(r.stderr).not.to.match(/[\x00-\x08\x0b-\x1f\x7f]/); // nothing raw for the terminal
  if (opts.maxMs) expect(ms, `took ${ms} ms`).to.be.below(opts.maxMs);
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(lines.length).to.be.at.most(52);
  for (const l of lines.slice(0, -1)) if (!l.startsWith('...')) expect(l.startsWith(`${file}:`), l).to.equal(true);
  return lines;
}

const withVars = (vars: string) => VALID.replace('name: test', `name: test\nvars:\n${vars}`);

describe('hotswap validate on hostile input', () => {
  it('a Markdown file (the README): a few lines, not one per parser error', async () => {
    const lines = await refused(README);
    expect(lines.length).to.be.at.most(5);
    expect(lines.join('\n')).to.match(/and \d+ more YAML errors: this does not look like a YAML playbook/);
  });

  it('a {{ var }} that doubles itself into gigabytes: stopped at 64 KiB, at the var', async () => {
    const vars = ['  a0: "' + 'x'.repeat(64) + '"'];
    for (let i = 1; i < 40; i++) vars.push(`  a${i}: "{{ a${i - 1} }}{{ a${i - 1} }}"`);
    const lines = await refused(writeTemp(withVars(vars.join('\n'))), { maxMs: 20_000 });
    expect(lines[0]).to.match(/:15:8: vars\.a11: expands to more than 64 KiB through \{\{ \}\}/);
  });

  it('a chain of thousands of vars, each naming the next: no stack overflow', async () => {
    // the last var first: resolving it walks the whole chain
    const vars = ['  v0: a'];
    for (let i = 1; i < 5000; i++) vars.unshift(`  v${i}: "{{ v${i - 1} }}"`);
    const lines = await refused(writeTemp(withVars(vars.join('\n'))), { maxMs: 20_000 });
    expect(lines[0]).to.match(/is reached through more than 100 other variables/);
  });

  it('{{ constructor }}, {{ __proto__ }}, {{ toString }} are undefined variables', async () => {
    const lines = await refused(writeTemp(VALID.replace('prefix: /usr/local/nginx', 'prefix: "/x/{{ constructor }}/{{ __proto__ }}/{{ toString }}/{{ hasOwnProperty }}"')));
    expect(lines).to.deep.equal([
      ...['constructor', '__proto__', 'toString', 'hasOwnProperty'].map((n) => `${lines[0]!.split(': ')[0]}: nginx.prefix: undefined variable {{ ${n} }}`),
      '4 problems found',
    ]);
  });

  it('a duration no timer can hold (1000h) is refused at its line', async () => {
    const lines = await refused(writeTemp(VALID.replace('timeout: 5m', 'timeout: 1000h')));
    expect(lines[0]).to.match(/:13:61: steps\[5\]\.wait-for-workers\.timeout: "1000h" is longer than hotswap can wait \(at most 596h/);
  });

  it('a list or a mapping used as a key: one problem, no Node warning', async () => {
    const lines = await refused(writeTemp(VALID + '[a, b]: 1\n? {c: 1}\n: 2\n'));
    expect(lines).to.have.length(3);
    expect(lines[0]).to.match(/:17:1: a key must be a plain name, not a list or a mapping/);
  });

  for (const [what, value, message] of [
    ['.nan', '.nan', /steps\[0\]\.backup\.keep: expected a number, got \.nan/],
    ['.inf', '.inf', /steps\[0\]\.backup\.keep: expected a finite number, got \.inf/],
    ['1e400', '1e400', /steps\[0\]\.backup\.keep: expected a finite number/],
    ['a number past 2^53', '1e21', /steps\[0\]\.backup\.keep: 1e\+21 is too large/],
  ] as const) {
    it(`a number such as ${what}: one problem naming it`, async () => {
      const lines = await refused(writeTemp(VALID.replace('keep: 3', `keep: ${value}`)));
      expect(lines).to.have.length(2);
      expect(lines[0]).to.match(message);
    });
  }

  it('10 000 levels of nesting', async () => {
    const lines = await refused(writeTemp('['.repeat(10_000) + ']'.repeat(10_000)));
    expect(lines[0]).to.match(/nested too deeply to be a playbook/);
  });

  it('a 1 MiB single line', async () => {
    const lines = await refused(writeTemp(`name: "${'x'.repeat(1024 * 1024 - 100)}"\n`));
    expect(lines.every((l) => l.length < 300)).to.equal(true);
  });

  it('70 000 broken steps: one line for the excess, the first hundred checked, in well under the time it took before', async () => {
    const steps = Array.from({ length: 70_000 }, () => '  - 1').join('\n');
    const text = VALID.slice(0, VALID.indexOf('steps:')) + 'steps:\n' + steps + '\n';
    const lines = await refused(writeTemp(text), { maxMs: 15_000 });
    expect(lines.join('\n')).to.match(/steps: at most 100 steps, got 70000; the ones after step 100 are not checked/);
    expect(lines[1]).to.match(/steps\[0\]: expected a mapping, got number 1/);
  });

  it('100 000 unknown keys: a screenful, then a count', async () => {
    const text = 'version: 1\n' + Array.from({ length: 100_000 }, (_, i) => `k${i}: 1`).join('\n') + '\n';
    const lines = await refused(writeTemp(text), { maxMs: 30_000 });
    expect(lines.at(-2)).to.match(/^\.\.\. and \d+ more/);
    expect(lines.at(-1)).to.equal('100003 problems found');
  });

  it('a key with control and bidi characters is shown escaped', async () => {
    const lines = await refused(writeTemp(VALID + '"\\e[2Jx\\u202e": 1\n'));
    expect(lines[0]).to.include('unknown key "\\u001b[2Jx\\u202e"');
  });

  it('random bytes, NUL, a BOM, CRLF and tabs', async () => {
    const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256));
    await refused(writeTemp(bytes));
    await refused(writeTemp(VALID.replace('name: test', 'name: "a\\0b"\nbogus: 1')));
    for (const text of ['\ufeff' + VALID, VALID.replace(/\n/g, '\r\n')]) {
      const r = await runCli(['validate', writeTemp(text)]);
      expect(r.code, r.stderr).to.equal(0);
    }
    const tabs = await refused(writeTemp(VALID.replace(/ {2}- /g, '\t- ')));
    expect(tabs.length).to.be.at.most(5);
  });
});

describe('hotswap validate reports schema and rule problems together', () => {
  it('a schema error does not hide a step-order error or a host path error', async () => {
    const text = VALID.replace('name: test', 'name: test\nstrategy: { concurrency: many }')
      .replace('prefix: /usr/local/nginx', 'prefix: /usr/local/nginx\n  pid_file: "/run/$(id).pid"')
      .replace('  - signal: WINCH\n', '');
    const lines = await refused(writeTemp(text));
    expect(lines.map((l) => l.replace(/^[^:]*:/, ''))).to.deep.equal([
      '3:26: strategy.concurrency: expected a whole number, got the string "many"',
      '8:13: nginx.pid_file: host path "/run/$(id).pid" contains "$": host paths may hold only letters, digits and . _ - / + @ % , = : ~',
      '14:5: steps[4].wait-for-workers: old workers only exit after WINCH to the old master: this wait would time out',
      '16:5: steps[6].signal: QUIT to the old master must follow WINCH and a wait until old-workers-exited',
      '4 problems found',
    ]);
  });
});

describe('name is optional', () => {
  it('a playbook without `name` is valid and named after its file', async () => {
    const file = writeTemp(VALID.replace('name: test\n', ''), 'edge-upgrade.yaml');
    const r = await runCli(['validate', file]);
    expect(r.code, r.stderr).to.equal(0);
    const plan = await runCli(['plan', file, '--offline']);
    expect(plan.code, plan.stderr).to.equal(0);
    expect(plan.stdout).to.match(/^plan: edge-upgrade\.yaml /);
  });
});

describe('hotswap on hostile input: found by a generated sweep over every schema key', () => {
  it('`steps` that is not a list, or missing: a schema problem, not "internal error: flatMap"', async () => {
    const head = VALID.slice(0, VALID.indexOf('steps:'));
    for (const [steps, message] of [
      ['steps: 0\n', /:7:8: steps: expected a list, got number 0/],
      ['steps: null\n', /:7:8: steps: expected a list, got nothing/],
      ['', /:1:1: missing required key "steps"/],
    ] as const) {
      const lines = await refused(writeTemp(head + steps));
      expect(lines[0]).to.match(message);
    }
  });

  it('a 5000-character key in a key path: the message stays one short line', async () => {
    const key = 'k'.repeat(5000);
    const lines = await refused(writeTemp(VALID.replace('verify: { running_binary: new }', `verify: { http: [{ url: "http://127.0.0.1/", header: { ${key}: 1 } }] }`)));
    expect(lines[0]).to.match(new RegExp(`steps\\[6\\]\\.verify\\.http\\[0\\]\\.header\\["k{40}\\.\\.\\."\\]: expected a string, got number 1$`));
    expect(lines[0]!.length).to.be.below(300);
  });

  it('a value that contains itself (&a [*a]): one problem at the alias, not a hang', async () => {
    const lines = await refused(writeTemp(VALID.replace('name: test', 'name: &a [1, *a]')), { maxMs: 10_000 });
    expect(lines[0]).to.match(/:2:14: alias \*a is inside the node it names: a value cannot contain itself$/);
  });

  it('a 10 000-character host pattern or regex: the message quotes it cut short', async () => {
    const file = writeTemp(VALID.replace('hosts:\n  - edge-1', 'inventory: hosts.ini\nhosts: "~' + '('.repeat(10_000) + '"'));
    writeFileSync(join(dirname(file), 'hosts.ini'), 'edge-1\n');
    const lines = await refused(file);
    expect(lines[0]).to.match(/:4:8: hosts: host pattern "~\({59}\.\.\." is not a valid regular expression: Unterminated group$/);
    const many = writeTemp(VALID.replace('hosts:\n  - edge-1', 'inventory: hosts.ini\nhosts: "' + Array.from({ length: 3000 }, (_, i) => `h${i}`).join(',') + '"'));
    writeFileSync(join(dirname(many), 'hosts.ini'), 'edge-1\n');
    const more = await refused(many);
    expect(more[0]).to.match(/hosts: the pattern matches no host for: h0, h1, h2, h3, h4, h5, h6, h7, h8, h9 and 2990 more$/);
  });
});

describe('the command line on hostile input', () => {
  it('--limit with an escape sequence: the warning shows it escaped', async () => {
    const r = await runCli(['plan', '--offline', writeTemp(VALID), '--limit', 'edge-1,\x1b[2J']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.equal('hotswap: warning: --limit: nothing matches \\x1b[2J\n');
  });

  it('a 10 000-character unknown option or command: one short line', async () => {
    const file = writeTemp(VALID);
    for (const args of [['validate', file, `--${'y'.repeat(10_000)}`], ['x'.repeat(10_000)], ['plan', file, '--offline', `--format=${'z'.repeat(10_000)}`]]) {
      const r = await runCli(args);
      expect(r.code, r.stderr).to.equal(2);
      const lines = r.stderr.split('\n').filter(Boolean);
      expect(lines).to.have.length(1);
      expect(lines[0]!.length, lines[0]).to.be.below(300);
    }
  });
});
