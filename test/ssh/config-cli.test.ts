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
    expect(r.stderr).to.contain(`hotswap: ssh config: ${config}:2: Port must be a whole number, got "twenty-two"`);
    const jump = await apply({ config_file: '/dev/null', proxy_jump: 'ops@jump:notaport' });
    expect(jump.code, jump.stderr).to.equal(2);
    expect(jump.stderr).to.contain('port must be 1-65535, got "notaport"');
  });

  it('Match blocks are ignored with a warning; ProxyCommand makes the host unreachable, pointing to ProxyJump', async () => {
    const config = join(dir, 'proxycommand_config');
    await writeFile(config, 'Match user root\n  Port 2222\nHost web-1\n  ProxyCommand ssh -W %h:%p bastion\n');
    const r = await apply({ config_file: config });
    expect(r.code, r.stderr).to.equal(3);
    expect(r.stderr).to.contain(`hotswap: warning: ${config}:1: Match blocks are not supported by hotswap`);
    expect(r.stderr).to.contain(`web-1: ProxyCommand (${config}:4) is not supported by hotswap; use ProxyJump (or ssh.proxy_jump) for bastions`);
  });
});
