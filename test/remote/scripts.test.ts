// How a host script is put together from its file and the lib/ files it
// sources, and how it is run: no host needed (dash and bash parse each one).
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SCRIPT_NAMES, script, scriptArgv, type ScriptName } from '../../src/remote/scripts.js';
import { LocalTransport } from '../../src/transport/local.js';
import { runScript, runScriptOk, RemoteError } from '../../src/remote/run.js';

const dir = fileURLToPath(new URL('../../src/remote/', import.meta.url));

describe('host scripts: built from src/remote/', () => {
  it('every .sh file of the folder is a script by that name, and every name has its file', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.sh')).map((f) => f.slice(0, -3)).sort();
    expect(files).to.deep.equal([...SCRIPT_NAMES].sort());
  });

  for (const name of SCRIPT_NAMES) {
    it(`${name}: lib/ files inlined once each, and dash and bash --posix parse it`, () => {
      const text = script(name);
      expect(text).not.to.match(/^\. /m);
      for (const fn of ['kv', 'kvb', 'pstat', 'children', 'pblock', 'sha', 'journal_tail']) {
        expect(text.match(new RegExp(`^${fn}\\(\\) `, 'gm'))?.length ?? 0, `${fn} defined at most once`).to.be.at.most(1);
      }
      for (const shell of [['dash'], ['bash', '--posix']]) execFileSync(shell[0]!, [...shell.slice(1), '-n', '-c', text]);
    });
  }

  it('a script carries only the functions it uses: the signal script has no facts machinery', () => {
    const signal = script('signal');
    expect(signal).to.match(/^pstat\(\) /m).and.match(/^is_master\(\) /m);
    expect(signal).not.to.match(/^(kvb|pblock|emit_conns|children)\(\) /m);
    expect(signal.length).to.be.below(3_000);
    expect(script('wait')).to.match(/^emit_conns\(\) /m).and.match(/^children_scan\(\) /m);
  });

  it('runs as `sh -c SCRIPT hotswap ARG...`; the wait loop through the under-bash launcher', () => {
    expect(scriptArgv('signal', ['QUIT', '12'])).to.deep.equal(['sh', '-c', script('signal'), 'hotswap', 'QUIT', '12']);
    expect(scriptArgv('wait', ['old-master-exited'])).to.deep.equal(['sh', '-c', script('under-bash'), 'hotswap', script('wait'), 'old-master-exited']);
    expect(() => script('nope' as ScriptName)).to.throw(/no host script named nope/);
  });

  it('passes arguments as data, and a failing script becomes a RemoteError with its words', async () => {
    const t = new LocalTransport('local');
    const odd = "a b'; echo owned; '$(id)\n";
    const r = await runScript(t, 'signal', ['QUIT', odd]);
    expect(r).to.include({ code: 2 });
    expect(r.stdout).to.equal('refused: not a valid master pid\n');
    const err = await runScriptOk(t, 'restore', ['/nonexistent/backup', '/nonexistent/target', '0'.repeat(64)]).then(() => null, (e: unknown) => e);
    expect(err).to.be.instanceOf(RemoteError).and.have.property('message').that.matches(/cannot read the backup \/nonexistent\/backup/);
  });
});
