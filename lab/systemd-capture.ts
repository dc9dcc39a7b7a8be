// `npx tsx lab/systemd-capture.ts`: boots systemd lab hosts and writes the real
// output src/nginx/systemd.ts parses into test/fixtures/systemd/ (systemctl show
// and /proc/PID/cgroup before and after a hand-run hot upgrade, with the stock
// unit and with a drop-in that empties PIDFile). Run it again when systemd or the
// lab changes; the unit tests read only the files.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemctlShowArgv } from '../src/nginx/systemd.js';
import { repoRoot } from './nginx-builds.js';
import { sleep } from './processes.js';
import { startSystemdHost, type SystemdHost } from './systemd-host.js';

const OUT = join(repoRoot(), 'test', 'fixtures', 'systemd');

async function sh(h: SystemdHost, argv: string[]): Promise<string> {
  const r = await h.ssh(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}
const show = (h: SystemdHost) => sh(h, systemctlShowArgv('nginx.service'));
const pidOf = async (h: SystemdHost, file: string) => Number((await sh(h, ['cat', file])).trim());

async function save(name: string, text: string): Promise<void> {
  await writeFile(join(OUT, name), text);
  console.log(`wrote test/fixtures/systemd/${name}`);
}

async function upgrade(h: SystemdHost, tag: string): Promise<void> {
  const old = await pidOf(h, '/run/nginx.pid');
  await save(`${tag}-cgroup-master.txt`, await sh(h, ['cat', `/proc/${old}/cgroup`]));
  await save(`${tag}-show-before.txt`, await show(h));
  // the new binary over the old, as copy-binary does (rename, never write into a running file)
  await sh(h, ['cp', '/opt/hotswap-lab/nginx-new', '/usr/sbin/nginx.hotswap-capture']);
  await sh(h, ['mv', '/usr/sbin/nginx.hotswap-capture', '/usr/sbin/nginx']);
  await sh(h, ['kill', '-USR2', String(old)]);
  // the new master writes /run/nginx.pid once it is up; the old one's is .oldbin by then
  for (let i = 0; i < 100; i++) {
    const r = await h.ssh(['cat', '/run/nginx.pid']);
    if (r.code === 0 && Number(r.stdout.trim()) > 0 && Number(r.stdout.trim()) !== old) break;
    await sleep(50);
  }
  await sleep(300);
  await save(`${tag}-show-after-usr2.txt`, await show(h));
  await sh(h, ['kill', '-WINCH', String(old)]);
  await sleep(500);
  const next = await pidOf(h, '/run/nginx.pid');
  await save(`${tag}-cgroup-new-master.txt`, await sh(h, ['cat', `/proc/${next}/cgroup`]));
  await sh(h, ['kill', '-QUIT', String(old)]);
  await sleep(1500);
  await save(`${tag}-show-after-quit.txt`, await show(h));
  await save(`${tag}-pids.txt`, `old master ${old}\nnew master ${next}\nalive after quit: ${(await h.ssh(['kill', '-0', String(next)])).code === 0}\n`);
}

const dir = await mkdtemp(join(tmpdir(), 'hotswap-systemd-capture-'));
const hosts: SystemdHost[] = [];
try {
  const stock = await startSystemdHost({ dir: join(dir, 'stock') });
  hosts.push(stock);
  console.log(`stock host booted: prepare ${stock.timings.prepare} s, boot ${stock.timings.boot} s`);
  await save('cgroup-init.txt', await sh(stock, ['cat', '/proc/1/cgroup']));
  await save('cgroup-ssh-session.txt', await sh(stock, ['cat', '/proc/self/cgroup']));
  await save('show-no-such-unit.txt', await sh(stock, systemctlShowArgv('nosuch.service')));
  await upgrade(stock, 'stock');

  // PIDFile= from boot on: systemd never learns a MainPID (0), so it ignores the QUIT
  const nopid = await startSystemdHost({ dir: join(dir, 'nopid'), dropIns: { 'nginx.service': '[Service]\nPIDFile=\n' } });
  hosts.push(nopid);
  await upgrade(nopid, 'nopidfile');

  // PIDFile= added while nginx runs (an edit plus daemon-reload): MainPID is still the
  // master, but at the QUIT systemd has no file to find the new one in
  const reloaded = await startSystemdHost({ dir: join(dir, 'reloaded') });
  hosts.push(reloaded);
  await sh(reloaded, ['mkdir', '-p', '/etc/systemd/system/nginx.service.d']);
  await sh(reloaded, ['sh', '-c', 'printf "[Service]\\nPIDFile=\\n" > /etc/systemd/system/nginx.service.d/hotswap-lab.conf']);
  await sh(reloaded, ['systemctl', 'daemon-reload']);
  await upgrade(reloaded, 'reloaded-nopidfile');
} finally {
  for (const h of hosts) await h.stop();
  await rm(dir, { recursive: true, force: true });
}
