// `npx tsx lab/layout-capture.ts`: boots a systemd lab host (Debian 12, packaged
// nginx under nginx.service) and writes the real data src/nginx/layout.ts,
// package-owner.ts and modules.ts parse into test/fixtures/{layout,packages,modules}/:
// `nginx -V` of both builds, the master's title, nginx.conf and `nginx -T`,
// /proc/MASTER/maps with Debian's echo module and with the lab's stream module,
// the staged-module `nginx -t` hotswap would run, and what dpkg says about
// /usr/sbin/nginx before and after a replacement, a diversion and a package
// reinstall. Also a hand-built prefix (lab/nginx-host.ts) on this machine.
// Run it again when the lab changes; the unit tests read only the files.
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { ensureBuilds, repoRoot } from './nginx-builds.js';
import { startNginxHost } from './nginx-host.js';
import { sleep } from './processes.js';
import { startSystemdHost, type SshResult, type SystemdHost } from './systemd-host.js';
import { parseConfigDump } from '../src/nginx/nginx-conf.js';
import { configuredModules, planModules, stagedTestConfig } from '../src/nginx/modules.js';

const FIXTURES = join(repoRoot(), 'test', 'fixtures');

async function save(rel: string, text: string): Promise<void> {
  await mkdir(join(FIXTURES, rel, '..'), { recursive: true });
  await writeFile(join(FIXTURES, rel), text);
  console.log(`wrote test/fixtures/${rel}`);
}

/** A command's whole result, for parsers that must handle exit codes and stderr too. */
async function saveRun(rel: string, argv: string[], r: SshResult): Promise<void> {
  await save(rel, JSON.stringify({ argv, code: r.code, stdout: r.stdout, stderr: r.stderr }, null, 2) + '\n');
}

async function sh(h: SystemdHost, argv: string[]): Promise<string> {
  const r = await h.ssh(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}
const both = (h: SystemdHost, argv: string[]) => h.ssh(['sh', '-c', '"$@" 2>&1', 'sh', ...argv]);
const master = async (h: SystemdHost) => Number((await sh(h, ['cat', '/run/nginx.pid'])).trim());
const title = async (h: SystemdHost, pid: number) => (await sh(h, ['sh', '-c', 'tr "\\0" "\\n" < "/proc/$1/cmdline"', 'sh', String(pid)])).split('\n')[0]! + '\n';

async function layout(h: SystemdHost): Promise<void> {
  const m = await master(h);
  await save('layout/debian-nginx-V.txt', (await both(h, ['/usr/sbin/nginx', '-V'])).stdout);
  await save('layout/debian-new-nginx-V.txt', (await both(h, ['/opt/hotswap-lab/nginx-new', '-V'])).stdout);
  await save('layout/debian-master-title.txt', await title(h, m));
  await save('layout/debian-nginx.conf', await sh(h, ['cat', '/etc/nginx/nginx.conf']));
  // the dump goes to stdout, "syntax is ok" to stderr
  await save('layout/debian-nginx-T.txt', await sh(h, [`/proc/${m}/exe`, '-T']));
}

async function modules(h: SystemdHost): Promise<void> {
  const m = await master(h);
  await save('modules/debian-echo-maps.txt', await sh(h, ['cat', `/proc/${m}/maps`]));
  await save('modules/debian-echo-nginx-T.txt', await sh(h, [`/proc/${m}/exe`, '-T']));
  // enable the lab's stream module the Debian way (modules-available + a modules-enabled link), restart
  await sh(h, ['cp', '/opt/hotswap-lab/modules/old/ngx_stream_module.so', '/usr/lib/nginx/modules/ngx_stream_module.so']);
  await sh(h, ['sh', '-c', 'echo "load_module modules/ngx_stream_module.so;" > /usr/share/nginx/modules-available/mod-stream.conf']);
  await sh(h, ['ln', '-s', '/usr/share/nginx/modules-available/mod-stream.conf', '/etc/nginx/modules-enabled/50-mod-stream.conf']);
  await sh(h, ['systemctl', 'restart', 'nginx.service']);
  const m2 = await master(h);
  await save('modules/debian-stream-maps.txt', await sh(h, ['cat', `/proc/${m2}/maps`]));
  const dump = await sh(h, [`/proc/${m2}/exe`, '-T']);
  await save('modules/debian-stream-nginx-T.txt', dump);
  await save('modules/debian-modules-enabled-ls.txt', await sh(h, ['ls', '-l', '/etc/nginx/modules-enabled/', '/usr/lib/nginx/modules/']));

  // the staged check, for real: the new stream module beside the old, a test
  // config beside nginx.conf loading it, the new build's -t
  const files = parseConfigDump(dump);
  const configured = configuredModules(files, '/etc/nginx/nginx.conf', '/usr/share/nginx/');
  const realpathArgv = ['realpath', '-m', '--', ...configured.map((c) => c.path)];
  const real = await h.ssh(realpathArgv);
  await saveRun('modules/debian-stream-realpath.json', realpathArgv, real);
  const realpaths = Object.fromEntries(configured.map((c, i) => [c.path, real.stdout.split('\n')[i]!]));
  const modulePlan = planModules([{ src: '/opt/hotswap-lab/modules/new/ngx_stream_module.so' }], configured, realpaths, 'capture');
  if (modulePlan.problems.length || modulePlan.steps.length !== 1) throw new Error(`module plan: ${JSON.stringify(modulePlan)}`);
  const staged = modulePlan.steps[0]!.staged;
  await sh(h, ['cp', '/opt/hotswap-lab/modules/new/ngx_stream_module.so', staged]);
  const plan = stagedTestConfig(files, { conf: '/etc/nginx/nginx.conf', prefix: '/usr/share/nginx/', runId: 'capture', modules: modulePlan.steps });
  if (plan.rewritten.length !== 1) throw new Error(`staged test config rewrote ${plan.rewritten.join(', ') || 'nothing'}`);
  await save('modules/staged-test.conf', plan.text);
  await writeFile(join(h.root, plan.path), plan.text);
  const ok = ['/opt/hotswap-lab/nginx-new', '-t', '-c', plan.path];
  await saveRun('modules/staged-test-ok.json', ok, await h.ssh(ok));
  // a module that is not one: nginx -t names the file and the dlopen error
  await sh(h, ['cp', '/etc/nginx/mime.types', staged]);
  await saveRun('modules/staged-test-bad-module.json', ok, await h.ssh(ok));
  await sh(h, ['rm', '-f', plan.path]);
  // renamed into place while the master runs: its mapping reads "(deleted)"
  await sh(h, ['cp', '/opt/hotswap-lab/modules/new/ngx_stream_module.so', staged]);
  await sh(h, ['mv', staged, modulePlan.steps[0]!.real]);
  await save('modules/debian-stream-maps-replaced.txt', await sh(h, ['cat', `/proc/${m2}/maps`]));
}

async function packages(h: SystemdHost): Promise<void> {
  const run = async (rel: string, argv: string[]) => saveRun(`packages/${rel}`, argv, await h.ssh(argv));
  await run('dpkg-S-usr-sbin-nginx.json', ['dpkg', '-S', '/usr/sbin/nginx']);
  await run('dpkg-S-module.json', ['dpkg', '-S', '/usr/lib/nginx/modules/ngx_http_echo_module.so']);
  await run('dpkg-S-not-owned.json', ['dpkg', '-S', '/opt/hotswap-lab/nginx-new']);
  await run('dpkg-S-missing.json', ['dpkg', '-S', '/usr/sbin/no-such-nginx']);
  await run('dpkg-query-nginx.json', ['dpkg-query', '-W', '-f', '${binary:Package}\\t${Version}\\t${db:Status-Abbrev}\\n', 'nginx']);
  await run('dpkg-verify-clean.json', ['dpkg', '--verify', 'nginx']);
  // what copy-binary does: a new file renamed over the package's
  await sh(h, ['cp', '/opt/hotswap-lab/nginx-new', '/usr/sbin/.nginx.capture']);
  await sh(h, ['mv', '/usr/sbin/.nginx.capture', '/usr/sbin/nginx']);
  await run('dpkg-verify-replaced.json', ['dpkg', '--verify', 'nginx']);
  await run('dpkg-divert-list-none.json', ['dpkg-divert', '--list', '/usr/sbin/nginx']);

  // a package reinstall (what the next upgrade does) without a diversion
  const deb = `/root/nginx_${(await ensureBuilds()).old.version}_amd64.deb`;
  await copyFile(join(repoRoot(), '.lab', 'builds', `nginx_${(await ensureBuilds()).old.version}_amd64.deb`), join(h.root, deb));
  await run('dpkg-i-undiverted.json', ['dpkg', '-i', deb]);
  await run('sha-after-undiverted.json', ['sha256sum', '/usr/sbin/nginx', '/opt/hotswap-lab/nginx-old', '/opt/hotswap-lab/nginx-new']);
  await run('dpkg-verify-after-undiverted.json', ['dpkg', '--verify', 'nginx']);

  // hotswap's build again, then the diversion as package-owner.ts plans it
  await sh(h, ['cp', '/opt/hotswap-lab/nginx-new', '/usr/sbin/.nginx.capture']);
  await sh(h, ['mv', '/usr/sbin/.nginx.capture', '/usr/sbin/nginx']);
  const { divertCommands } = await import('../src/nginx/package-owner.js');
  const cmds = divertCommands({ path: '/usr/sbin/nginx', packageCopy: '/opt/hotswap-lab/nginx-old' });
  let i = 0;
  for (const c of cmds.add) await run(`divert-add-${++i}.json`, c);
  await run('dpkg-divert-list.json', ['dpkg-divert', '--list', '/usr/sbin/nginx']);
  await run('dpkg-divert-truename.json', ['dpkg-divert', '--truename', '/usr/sbin/nginx']);
  await run('dpkg-S-diverted.json', ['dpkg', '-S', '/usr/sbin/nginx']);
  await run('dpkg-verify-diverted.json', ['dpkg', '--verify', 'nginx']);
  await run('dpkg-i-diverted.json', ['dpkg', '-i', deb]);
  await run('sha-after-diverted.json', ['sha256sum', '/usr/sbin/nginx', '/usr/sbin/nginx.distrib', '/opt/hotswap-lab/nginx-old', '/opt/hotswap-lab/nginx-new']);
  await run('dpkg-verify-after-diverted.json', ['dpkg', '--verify', 'nginx']);
  await sleep(1000);
  await run('nginx-after-diverted.json', ['sh', '-c', 'p=$(cat /run/nginx.pid); echo "master $p"; sha256sum "/proc/$p/exe"; systemctl is-active nginx.service']);
  // and back: the package's file returns to its own name
  i = 0;
  for (const c of divertCommands({ path: '/usr/sbin/nginx', packageCopy: '/opt/hotswap-lab/nginx-old' }).remove) await run(`divert-remove-${++i}.json`, c);
  await run('sha-after-remove.json', ['sha256sum', '/usr/sbin/nginx']);
  await run('dpkg-verify-after-remove.json', ['dpkg', '--verify', 'nginx']);
}

// A hand-built prefix as the other lab runs it: -p and -c on the master's command line.
async function handBuilt(dir: string): Promise<void> {
  const builds = await ensureBuilds();
  const root = join(dir, 'opt-nginx');
  const host = await startNginxHost({ root, binary: builds.old.path, port: await freePort() });
  try {
    const pid = (await host.masterPid())!;
    const t = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')[0]!;
    const scrub = (s: string) => s.split(root).join('/opt/nginx');
    await save('layout/prefix-master-title.txt', scrub(t) + '\n');
    await save('layout/prefix-nginx.conf', scrub(await readFile(join(root, 'conf', 'nginx.conf'), 'utf8')));
    const v = spawnSync(builds.old.path, ['-V'], { encoding: 'utf8' });
    await save('layout/prefix-nginx-V.txt', v.stderr);
  } finally {
    await host.stop();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'hotswap-layout-capture-'));
let h: SystemdHost | undefined;
try {
  await handBuilt(dir);
  h = await startSystemdHost({ dir: join(dir, 'systemd') });
  console.log(`booted: prepare ${h.timings.prepare} s, boot ${h.timings.boot} s`);
  await layout(h);
  await modules(h);
  await packages(h);
} finally {
  await h?.stop();
  await rm(dir, { recursive: true, force: true });
}
