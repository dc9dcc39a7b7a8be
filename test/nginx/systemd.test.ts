import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  checkMainPid, describeUnit, parseExecCommands, parseSystemctlShow, systemctlShowArgv, systemdRefusals, unitFromCgroup,
  type SystemdCheckInput, type UnitFacts,
} from '../../src/nginx/systemd.js';

// Real output captured from Debian 12's systemd 252 booted with systemd-nspawn
// (lab/systemd-capture.ts): the packaged nginx.service, a hand-run USR2/WINCH/QUIT.
// stock-*: the packaged unit. nopidfile-*: a drop-in `PIDFile=` present from boot
// (systemd's MainPID guess failed there: 0; another boot guessed the master).
// reloaded-nopidfile-*: the same drop-in added while nginx ran, then daemon-reload.
const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'systemd');
const fx = (name: string) => readFileSync(join(DIR, name), 'utf8');
const show = (name: string) => parseSystemctlShow(fx(name));
const pids = (tag: string) => {
  const t = fx(`${tag}-pids.txt`);
  return { old: Number(/old master (\d+)/.exec(t)![1]), new: Number(/new master (\d+)/.exec(t)![1]), aliveAfterQuit: /alive after quit: true/.test(t) };
};
const input = (unit: UnitFacts, masterPid: number, extra: Partial<SystemdCheckInput> = {}): SystemdCheckInput =>
  ({ unit, masterPid, nginxPidFile: '/run/nginx.pid', ...extra });

describe('systemd: unit from /proc/PID/cgroup', () => {
  it('reads nginx.service from a hybrid (v1 name=systemd + v2) cgroup file', () => {
    expect(unitFromCgroup(fx('stock-cgroup-master.txt'))).to.deep.equal({ unit: 'nginx.service', path: '/system.slice/nginx.service', userManager: false });
    // the new master is the old one's child: same unit
    expect(unitFromCgroup(fx('stock-cgroup-new-master.txt'))?.unit).to.equal('nginx.service');
    expect(unitFromCgroup(fx('cgroup-ssh-session.txt'))?.unit).to.equal('ssh.service');
    expect(unitFromCgroup(fx('cgroup-init.txt'))?.unit).to.equal('init.scope');
  });

  it('reads a pure cgroup v2 line, and the innermost unit of a nested path', () => {
    expect(unitFromCgroup('0::/system.slice/nginx.service\n')?.unit).to.equal('nginx.service');
    expect(unitFromCgroup('0::/machine.slice/machine-web.scope/payload/system.slice/nginx.service\n')?.unit).to.equal('nginx.service');
    expect(unitFromCgroup('0::/user.slice/user-1000.slice/session-3.scope\n')).to.include({ unit: 'session-3.scope', userManager: false });
    expect(unitFromCgroup('0::/user.slice/user-1000.slice/user@1000.service/app.slice/nginx.service\n')).to.include({ unit: 'nginx.service', userManager: true });
  });

  it('prefers the v1 name=systemd hierarchy (legacy systems leave 0:: at /)', () => {
    expect(unitFromCgroup('12:pids:/system.slice/nginx.service\n1:name=systemd:/system.slice/nginx.service\n0::/\n')?.unit).to.equal('nginx.service');
  });

  it('gives null when no systemd unit holds the process (docker, no systemd, garbage)', () => {
    expect(unitFromCgroup('0::/\n')).to.equal(null);
    expect(unitFromCgroup('12:pids:/docker/4f3a\n11:memory:/docker/4f3a\n')).to.equal(null);
    expect(unitFromCgroup('')).to.equal(null);
    expect(unitFromCgroup('0::/system.slice/evil;rm -rf.service\n')).to.equal(null);
  });
});

describe('systemd: systemctl show', () => {
  it('parses the packaged nginx.service', () => {
    const u = show('stock-show-before.txt');
    expect(u).to.deep.include({
      id: 'nginx.service', loadState: 'loaded', type: 'forking', pidFile: '/run/nginx.pid', mainPid: pids('stock').old,
      guessMainPid: true, killMode: 'mixed', activeState: 'active', subState: 'running',
      fragmentPath: '/lib/systemd/system/nginx.service', dropInPaths: [],
    });
    expect(u.execStop).to.deep.equal([{ path: '/sbin/start-stop-daemon', argv: '/sbin/start-stop-daemon --quiet --stop --retry QUIT/5 --pidfile /run/nginx.pid', ignoreErrors: true }]);
    expect(u.execReload).to.deep.equal([{ path: '/usr/sbin/nginx', argv: '/usr/sbin/nginx -g daemon on; master_process on; -s reload', ignoreErrors: false }]);
  });

  it('parses an emptied PIDFile, MainPID=0 and the drop-in path', () => {
    const u = show('nopidfile-show-before.txt');
    expect(u).to.deep.include({ pidFile: '', mainPid: 0, dropInPaths: ['/etc/systemd/system/nginx.service.d/hotswap-lab.conf'] });
  });

  it('parses a unit that does not exist', () => {
    expect(show('show-no-such-unit.txt')).to.deep.include({ id: 'nosuch.service', loadState: 'not-found', type: '', mainPid: 0, execStop: [] });
  });

  it('parses several commands of one property and ignores junk lines', () => {
    const two = '{ path=/bin/a ; argv[]=/bin/a x ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 } ; { path=/bin/b ; argv[]=/bin/b ; ignore_errors=yes ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }';
    expect(parseExecCommands(two).map((c) => c.path)).to.deep.equal(['/bin/a', '/bin/b']);
    expect(parseSystemctlShow('garbage\n=x\nMainPID=abc\n')).to.include({ mainPid: 0, id: '' });
  });

  it('asks for the unit as one argument after --', () => {
    expect(systemctlShowArgv('nginx.service').slice(-2)).to.deep.equal(['--', 'nginx.service']);
  });
});

describe('systemd: pre-flight rules', () => {
  it('accepts the packaged unit tracking the master', () => {
    expect(systemdRefusals(input(show('stock-show-before.txt'), pids('stock').old))).to.deep.equal([]);
    // /var/run is /run to systemd
    expect(systemdRefusals(input(show('stock-show-before.txt'), pids('stock').old, { nginxPidFile: '/var/run/nginx.pid' }))).to.deep.equal([]);
  });

  it('refuses the unit whose PIDFile a drop-in emptied while nginx ran (the upgrade that kills nginx), naming unit, setting and fix', () => {
    const u = show('reloaded-nopidfile-show-before.txt');
    const r = systemdRefusals(input(u, pids('reloaded-nopidfile').old));
    expect(r.map((x) => x.setting)).to.deep.equal(['PIDFile']);
    expect(r[0]!.message).to.match(/^systemd unit nginx\.service \(\/lib\/systemd\/system\/nginx\.service, \/etc\/systemd\/system\/nginx\.service\.d\/hotswap-lab\.conf\) has no PIDFile=/);
    expect(r[0]!.message).to.include('start-stop-daemon --quiet --stop --retry QUIT/5 --pidfile /run/nginx.pid');
    expect(r[0]!.message).to.include('systemctl daemon-reload');
    expect(r[0]!.message).not.to.include('systemctl restart'); // MainPID is the master: a reload is enough
    expect(r[0]!.dropIn).to.deep.equal({ path: '/etc/systemd/system/nginx.service.d/hotswap.conf', text: '[Service]\nPIDFile=/run/nginx.pid\n' });
  });

  it('refuses the unit with no PIDFile from the start: systemd tracks no MainPID at all', () => {
    const r = systemdRefusals(input(show('nopidfile-show-before.txt'), pids('nopidfile').old));
    expect(r.map((x) => x.setting)).to.deep.equal(['PIDFile', 'MainPID']);
    expect(r[0]!.message).to.include('systemctl restart nginx.service');
    expect(r[1]!.message).to.match(/MainPID=none, not the nginx master \d+/);
  });

  it('refuses a PIDFile other than the one nginx writes, comparing realpaths when given', () => {
    const u = show('stock-show-before.txt');
    const master = pids('stock').old;
    const r = systemdRefusals(input(u, master, { nginxPidFile: '/var/run/nginx/nginx.pid' }));
    expect(r.map((x) => x.setting)).to.deep.equal(['PIDFile']);
    expect(r[0]!.message).to.include('PIDFile=/run/nginx.pid, but nginx writes its pid to /var/run/nginx/nginx.pid');
    expect(r[0]!.dropIn?.text).to.equal('[Service]\nPIDFile=/var/run/nginx/nginx.pid\n');
    // a symlinked directory: same file once resolved on the host
    expect(systemdRefusals(input(u, master, { nginxPidFile: '/srv/run/nginx.pid', nginxPidFileReal: '/run/nginx.pid', unitPidFileReal: '/run/nginx.pid' }))).to.deep.equal([]);
    expect(systemdRefusals(input(u, master, { nginxPidFile: '/run/nginx.pid', nginxPidFileReal: '/run/nginx.pid', unitPidFileReal: '/srv/nginx.pid' }))).to.have.length(1);
  });

  it('refuses when systemd tracks another process than the master', () => {
    const r = systemdRefusals(input(show('stock-show-before.txt'), 4242));
    expect(r.map((x) => x.setting)).to.deep.equal(['MainPID']);
    expect(r[0]!.message).to.include(`MainPID=${pids('stock').old}, not the nginx master 4242`);
  });

  it('refuses a non-forking unit, with the drop-in and the daemon off hint', () => {
    const u = { ...show('stock-show-before.txt'), type: 'simple' };
    const r = systemdRefusals(input(u, pids('stock').old));
    expect(r.map((x) => x.setting)).to.deep.equal(['Type']);
    expect(r[0]!.message).to.include('Type=simple').and.include('daemon off');
    expect(r[0]!.dropIn?.text).to.equal('[Service]\nType=forking\nPIDFile=/run/nginx.pid\n');
  });

  it('refuses a unit in a job (reloading, deactivating) and one not loaded', () => {
    const u = { ...show('stock-show-before.txt'), activeState: 'reloading', subState: 'reload' };
    expect(systemdRefusals(input(u, pids('stock').old)).map((x) => x.setting)).to.deep.equal(['ActiveState']);
    const gone = { ...show('stock-show-before.txt'), loadState: 'not-found' };
    expect(systemdRefusals(input(gone, pids('stock').old)).map((x) => x.setting)).to.deep.equal(['LoadState']);
  });
});

describe('systemd: after the old master exits', () => {
  it('ok with the packaged unit: MainPID moved to the new master, active', () => {
    const p = pids('stock');
    expect(p.aliveAfterQuit).to.equal(true);
    expect(checkMainPid(show('stock-show-after-quit.txt'), p.new, p.old)).to.deep.equal({ state: 'ok' });
    // through USR2 and WINCH systemd keeps the old master: not yet the new one
    expect(checkMainPid(show('stock-show-after-usr2.txt'), p.new, p.old).state).to.equal('pending');
  });

  it('failed when systemd lost nginx at the QUIT and killed the new master', () => {
    const p = pids('reloaded-nopidfile');
    expect(p.aliveAfterQuit).to.equal(false);
    const c = checkMainPid(show('reloaded-nopidfile-show-after-quit.txt'), p.new, p.old);
    expect(c.state).to.equal('failed');
    expect(c.state === 'failed' && c.reason).to.include('nginx.service went inactive (dead, MainPID=none)').and.include('systemctl start nginx.service');
  });

  it('pending when the unit is active but tracks no main process (PIDFile= from boot): a deadline turns it into failed', () => {
    const p = pids('nopidfile');
    expect(p.aliveAfterQuit).to.equal(true);
    expect(checkMainPid(show('nopidfile-show-after-quit.txt'), p.new, p.old).state).to.equal('pending');
  });

  it('failed when systemd tracks a third process', () => {
    expect(checkMainPid(show('stock-show-after-quit.txt'), 99999, 1).state).to.equal('failed');
  });

  it('describes the unit in one line for status', () => {
    expect(describeUnit(show('stock-show-after-quit.txt'))).to.equal(`nginx.service active (running), MainPID ${pids('stock').new}`);
    expect(describeUnit(show('reloaded-nopidfile-show-after-quit.txt'))).to.equal('nginx.service inactive (dead), MainPID none');
  });
});
