import { expect } from 'chai';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBuilds } from '../../lab/nginx-builds.js';
import { runCli } from '../cli/run-cli.js';
import { openTempDir, writePlaybook } from './helpers.js';

// What the operator sees when the ssh settings themselves are wrong: nothing is contacted.
describe('ssh: config problems through the CLI', function () {
  this.timeout(60_000);
  let dir: string;
  let build: string;
  let n = 0;
  before(async () => {
    dir = await openTempDir('hotswap-sshcfg-cli-');
    build = (await ensureBuilds()).new.path;
  });
  after(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  const apply = async (ssh: Record<string, string>, host = '{ name: web-1, vars: { prefix: /opt/nginx, http_port: 80 } }') =>
    runCli(['apply', await writePlaybook(join(dir, `${++n}.yaml`), { build, hosts: [host], ssh }), '--yes']);

  it('a config_file that does not exist is a usage error (exit 2)', async () => {
    const r = await apply({ config_file: join(dir, 'absent') });
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr).to.contain(`hotswap: ssh: cannot read ssh config ${join(dir, 'absent')}: ENOENT`);
  });

  it('a bad line in it is a usage error naming file and line; a bad proxy_jump too', async () => {
    const config = join(dir, 'bad_config');
    await writeFile(config, 'Host web-*\n  Port twenty-two\n');
    const r = await apply({ config_file: config });
    expect(r.code, r.stderr).to.equal(2);
    // ssh -G -F on this file: "line 2: Bad port 'twenty-two'."
    expect(r.stderr).to.contain(`hotswap: ssh config: ${config}:2: Port: Bad port 'twenty-two'`);
    const jump = await apply({ config_file: '/dev/null', proxy_jump: 'ops@jump:notaport' });
    expect(jump.code, jump.stderr).to.equal(2);
    expect(jump.stderr).to.contain('port must be 1-65535, got "notaport"');
  });

  // whether ssh refuses an unknown keyword depends on the host (an IgnoreUnknown in a block
  // that applies), so it is found when the host is looked up: that host is refused, untouched
  it('an unknown keyword refuses the host (exit 3), naming file and line, as ssh refuses it', async () => {
    const config = join(dir, 'unknown_config');
    await writeFile(config, 'Host *\n  UseKeychain yes\n');
    const r = await apply({ config_file: config });
    expect(r.code, r.stderr).to.equal(3);
    expect(r.stdout + r.stderr).to.contain(`web-1: ${config}:2: Bad configuration option: usekeychain`);
  });

  it('a ProxyCommand inside a Match block is honoured (never connected around): its failure is the host\'s (exit 3)', async () => {
    const config = join(dir, 'match_proxycommand_config');
    await writeFile(config, 'Host web-1\n  HostName 127.0.0.1\nMatch originalhost web-1 exec "true"\n  ProxyCommand sh -c \'echo "proxy refused %h:%p" >&2; exit 7\'\n');
    const r = await apply({ config_file: config });
    expect(r.code, r.stderr).to.equal(3);
    expect(r.stderr).not.to.contain('warning');
    expect(r.stderr).to.contain(`via ProxyCommand at ${config}:4`);
    expect(r.stderr).to.contain('proxy refused 127.0.0.1:22');
    expect(r.stderr).to.contain('exited with status 7');
  });
});
