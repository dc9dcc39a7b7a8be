import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import {
  backupPlace, divertCommands, ownershipNote, parseDpkgQuery, parseDpkgSearch, parseRpmQuery, parseVerify, pruneSet, rpmQueryArgv,
  type CommandResult,
} from '../../src/nginx/package-owner.js';

// Real runs in the systemd lab (Debian 12, dpkg 1.21; lab/layout-capture.ts):
// each fixture is { argv, code, stdout, stderr }. The divert-* files are the
// commands divertCommands() gives, run for real, in order; dpkg-i-* reinstall
// the package (what an upgrade does) without and with the diversion.
const run = (name: string): CommandResult & { argv: string[] } => JSON.parse(readFileSync(new URL(`../fixtures/packages/${name}`, import.meta.url), 'utf8'));
const shaOf = (name: string, path: string) => new RegExp(`^([0-9a-f]{64})  ${path.replace(/[.]/g, '\\.')}$`, 'm').exec(run(name).stdout)![1];

describe('package-owner: who owns the files hotswap replaces', () => {
  it('parses dpkg -S: owned, owned by a module package, not owned, missing', () => {
    expect(parseDpkgSearch('/usr/sbin/nginx', run('dpkg-S-usr-sbin-nginx.json'))).to.deep.equal({ path: '/usr/sbin/nginx', manager: 'dpkg', packages: ['nginx'] });
    expect(parseDpkgSearch('/usr/lib/nginx/modules/ngx_http_echo_module.so', run('dpkg-S-module.json'))?.packages).to.deep.equal(['libnginx-mod-http-echo']);
    expect(parseDpkgSearch('/opt/hotswap-lab/nginx-new', run('dpkg-S-not-owned.json'))).to.equal(null);
    expect(parseDpkgSearch('/usr/sbin/no-such-nginx', run('dpkg-S-missing.json'))).to.equal(null);
    // dpkg reads the argument as a pattern: only the exact path counts; several owners and arch qualifiers kept
    expect(parseDpkgSearch('/usr/sbin/nginx', { code: 0, stderr: '', stdout: 'nginx-extras: /usr/sbin/nginx-debug\nnginx, nginx-core:amd64: /usr/sbin/nginx\n' })?.packages).to.deep.equal(['nginx', 'nginx-core:amd64']);
  });

  it('parses a diverted path (after the plan\'s own diversion)', () => {
    expect(parseDpkgSearch('/usr/sbin/nginx', run('dpkg-S-diverted.json'))).to.deep.equal({
      path: '/usr/sbin/nginx', manager: 'dpkg', packages: ['nginx'], diversion: { by: 'local', to: '/usr/sbin/nginx.distrib' },
    });
  });

  it('parses dpkg-query versions (installed only)', () => {
    expect([...parseDpkgQuery(run('dpkg-query-nginx.json').stdout)]).to.deep.equal([['nginx', '1.22.1-9+deb12u9']]);
    expect([...parseDpkgQuery('libfoo:amd64\t1.0\tii \nbar\t2.0\trc \n')]).to.deep.equal([['libfoo', '1.0']]);
  });

  it('parses dpkg --verify: clean, then the binary hotswap renamed in', () => {
    expect(parseVerify(run('dpkg-verify-clean.json').stdout)).to.deep.equal([]);
    expect(parseVerify(run('dpkg-verify-replaced.json').stdout)).to.deep.equal([{ path: '/usr/sbin/nginx', checks: '??5??????', conffile: false, digestChanged: true, missing: false }]);
    // rpm -V shape (rpm(8) VERIFY OPTIONS): same columns
    expect(parseVerify('S.5....T.  c /etc/nginx/nginx.conf\nmissing     /usr/sbin/nginx\n..?......    /usr/lib64/nginx/modules/x.so\n')).to.deep.equal([
      { path: '/etc/nginx/nginx.conf', checks: 'S.5....T.', conffile: true, digestChanged: true, missing: false },
      { path: '/usr/sbin/nginx', checks: 'missing', conffile: false, digestChanged: false, missing: true },
      { path: '/usr/lib64/nginx/modules/x.so', checks: '..?......', conffile: false, digestChanged: false, missing: false },
    ]);
  });

  it('parses rpm -qf with tab-separated fields; not owned and missing give null (output shapes of rpm(8))', () => {
    expect(rpmQueryArgv('/usr/sbin/nginx').slice(-2)).to.deep.equal(['--', '/usr/sbin/nginx']);
    expect(parseRpmQuery('/usr/sbin/nginx', { code: 0, stderr: '', stdout: 'nginx-core\t2:1.20.1-14.el9_2.1\tx86_64\n' })).to.deep.equal({ path: '/usr/sbin/nginx', manager: 'rpm', packages: ['nginx-core'], version: '2:1.20.1-14.el9_2.1' });
    expect(parseRpmQuery('/usr/sbin/nginx', { code: 0, stderr: '', stdout: 'nginx\t0:1.26.3-1.el9.ngx\tx86_64\n' })?.version).to.equal('1.26.3-1.el9.ngx');
    expect(parseRpmQuery('/opt/nginx', { code: 1, stderr: '', stdout: 'file /opt/nginx is not owned by any package\n' })).to.equal(null);
    expect(parseRpmQuery('/x', { code: 1, stdout: '', stderr: 'error: file /x: No such file or directory\n' })).to.equal(null);
  });
});

describe('package-owner: keeping the build through package upgrades', () => {
  const owned = { ...parseDpkgSearch('/usr/sbin/nginx', run('dpkg-S-usr-sbin-nginx.json'))!, version: '1.22.1-9+deb12u9' };

  it('without a diversion a package reinstall puts its own build back (and hot-upgrades to it): the plan warns', () => {
    expect(run('dpkg-i-undiverted.json').stdout).to.include('Upgrading binary: nginx.');
    expect(shaOf('sha-after-undiverted.json', '/usr/sbin/nginx')).to.equal(shaOf('sha-after-undiverted.json', '/opt/hotswap-lab/nginx-old'));
    const n = ownershipNote(owned, 'keep', '/usr/sbin/nginx');
    expect(n.atRisk).to.equal(true);
    expect(n.text).to.equal('/usr/sbin/nginx belongs to nginx 1.22.1-9+deb12u9 (dpkg): the next package upgrade replaces the build hotswap installs (and its postinst hot-upgrades nginx to the package\'s build); `dpkg --verify nginx` will report /usr/sbin/nginx changed. Keep it with `nginx.package: divert`');
    expect(n.commands).to.deep.equal([]);
  });

  it('the diversion commands, run for real: dpkg --verify clean, a reinstall writes .distrib, hotswap\'s build stays and keeps running', () => {
    const c = divertCommands({ path: '/usr/sbin/nginx', packageCopy: '/opt/hotswap-lab/nginx-old' });
    expect(c.add.map((a, i) => run(`divert-add-${i + 1}.json`).argv)).to.deep.equal(c.add);
    expect(c.add.map((_, i) => run(`divert-add-${i + 1}.json`).code)).to.deep.equal([0, 0, 0]);
    expect(run('divert-add-3.json').stdout).to.equal("Adding 'local diversion of /usr/sbin/nginx to /usr/sbin/nginx.distrib'\n");
    expect(parseVerify(run('dpkg-verify-diverted.json').stdout)).to.deep.equal([]);
    expect(shaOf('sha-after-diverted.json', '/usr/sbin/nginx')).to.equal(shaOf('sha-after-diverted.json', '/opt/hotswap-lab/nginx-new'));
    expect(shaOf('sha-after-diverted.json', '/usr/sbin/nginx.distrib')).to.equal(shaOf('sha-after-diverted.json', '/opt/hotswap-lab/nginx-old'));
    expect(run('nginx-after-diverted.json').stdout).to.include(shaOf('sha-after-diverted.json', '/opt/hotswap-lab/nginx-new')).and.include('active');
    expect(parseVerify(run('dpkg-verify-after-diverted.json').stdout)).to.deep.equal([]);
    // undone: the package's file is back at its name
    expect(c.remove.map((a, i) => run(`divert-remove-${i + 1}.json`).argv)).to.deep.equal(c.remove);
    expect(run('sha-after-remove.json').stdout).to.include(shaOf('sha-after-diverted.json', '/opt/hotswap-lab/nginx-old'));
    expect(parseVerify(run('dpkg-verify-after-remove.json').stdout)).to.deep.equal([]);
  });

  it('plans the diversion when asked, and says nothing to fear once diverted', () => {
    const n = ownershipNote(owned, 'divert', '/var/backups/hotswap/usr/sbin/nginx.20260101T000000Z.bak');
    expect(n.atRisk).to.equal(false);
    expect(n.commands[0]).to.deep.equal(['cp', '-p', '--', '/var/backups/hotswap/usr/sbin/nginx.20260101T000000Z.bak', '/usr/sbin/nginx.distrib.hotswap-tmp']);
    expect(n.text).to.include('future package upgrades install there');
    const diverted = ownershipNote(parseDpkgSearch('/usr/sbin/nginx', run('dpkg-S-diverted.json')), 'keep', '/usr/sbin/nginx');
    expect(diverted).to.deep.include({ atRisk: false, commands: [] });
    expect(diverted.text).to.match(/^\/usr\/sbin\/nginx is diverted by local to \/usr\/sbin\/nginx\.distrib/);
    expect(ownershipNote(null, 'divert', '/x')).to.deep.equal({ atRisk: false, text: '', commands: [] });
    const rpm = ownershipNote({ path: '/usr/sbin/nginx', manager: 'rpm', packages: ['nginx'], version: '1.20.1-14.el9' }, 'divert', '/x');
    expect(rpm.atRisk).to.equal(true);
    expect(rpm.text).to.include('rpm has no diversion').and.include('versionlock');
  });
});

describe('package-owner: backups of a package-owned file', () => {
  const stamp = '20260102T030405Z';
  it('go under /var/backups/hotswap mirroring the path; beside the file otherwise; the playbook dest wins', () => {
    expect(backupPlace({ file: '/usr/sbin/nginx', owned: true, stamp })).to.deep.include({ dir: '/var/backups/hotswap/usr/sbin', base: 'nginx', dest: `/var/backups/hotswap/usr/sbin/nginx.${stamp}.bak` });
    expect(backupPlace({ file: '/usr/lib/nginx/modules/ngx_stream_module.so', owned: true, stamp }).dest).to.equal(`/var/backups/hotswap/usr/lib/nginx/modules/ngx_stream_module.so.${stamp}.bak`);
    expect(backupPlace({ file: '/opt/nginx/sbin/nginx', owned: false, stamp })).to.deep.include({ dir: '/opt/nginx/sbin', dest: `/opt/nginx/sbin/nginx.${stamp}.bak` });
    expect(backupPlace({ file: '/usr/sbin/nginx', owned: true, stamp, dest: '/srv/keep/nginx.bak' })).to.deep.include({ dir: '/srv/keep', dest: '/srv/keep/nginx.bak', from: 'playbook backup.dest' });
  });

  it('prunes the oldest hotswap backups beyond keep, never a protected one nor other files', () => {
    const names = ['nginx.20260101T000000Z.bak', 'nginx.20260103T000000Z.bak', 'nginx.20260102T000000Z.bak', 'nginx.distrib', 'nginx.old.bak', 'nginx-debug.20250101T000000Z.bak', 'nginx.20260104T000000Z.bak'];
    expect(pruneSet(names, 'nginx', 3)).to.deep.equal(['nginx.20260101T000000Z.bak']);
    expect(pruneSet(names, 'nginx', 1)).to.deep.equal(['nginx.20260101T000000Z.bak', 'nginx.20260102T000000Z.bak', 'nginx.20260103T000000Z.bak']);
    // a backup a journal still needs survives even when it is old; the newest still stay
    expect(pruneSet(names, 'nginx', 1, ['nginx.20260101T000000Z.bak'])).to.deep.equal(['nginx.20260102T000000Z.bak', 'nginx.20260103T000000Z.bak']);
    expect(pruneSet(names, 'nginx', 0)).to.have.length(4);
    expect(pruneSet(names, 'nginx', 10)).to.deep.equal([]);
  });
});
