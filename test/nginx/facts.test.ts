import { expect } from 'chai';
import { daemonRule, parseFacts, parseMasterTitle, type HostFacts, type MasterInfo } from '../../src/nginx/facts.js';
import { cmdlineToArgv, decodeStr, parseLines, ScriptOutputError } from '../../src/nginx/format.js';
import { PF_FORKNOEXEC } from '../../src/nginx/process.js';
import { fixture, NEW_SHA, OLD_SHA } from './fixtures.js';

const master = (f: HostFacts): MasterInfo => {
  expect(f.master, 'master').to.not.equal(null);
  return f.master!;
};
const prefixOf = (pidFile: string) => pidFile.replace(/\/logs\/nginx\.pid$/, '');

// One row per captured state: what the parser must make of it.
const cases: { file: string; check: (f: HostFacts) => void }[] = [
  {
    file: 'facts-single-master.txt',
    check: (f) => {
      const m = master(f);
      expect(f.uid).to.equal(0);
      expect(f.pidFile).to.include({ state: 'present', pid: m.pid });
      expect(f.pidFile.ctime).to.match(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ [+-]\d{4}$/);
      expect(f.oldbinFile.state).to.equal('absent');
      expect(f.oldMaster).to.equal(null);
      expect(m).to.include({ exists: true, state: 'S', zombie: false, role: 'master', isNginxMaster: true, canSignal: true });
      expect(m.title).to.match(/^nginx: master process \//);
      expect(m.cmdline).to.have.length(1); // the title replaced argv
      expect(m.comm).to.equal('nginx');
      expect(m.flags! & PF_FORKNOEXEC).to.not.equal(0);
      expect(m.sid).to.equal(m.pid);
      expect(m.argv0Kind).to.equal('absolute');
      expect(m.argv0).to.equal(f.binary.path);
      expect(m.execPath).to.equal(f.binary.path);
      expect(m.execIsBinary).to.equal(true);
      expect(m.exe).to.equal(f.binary.path);
      expect(m.exeDeleted).to.equal(false);
      expect(m.exeSha256).to.equal(OLD_SHA).and.equal(f.binary.sha256);
      expect(m.exeDevIno).to.equal(f.binary.devIno);
      expect(m.cwd).to.equal(prefixOf(f.pidFile.path));
      expect(m.args).to.deep.include({ prefix: prefixOf(f.pidFile.path), conf: 'conf/nginx.conf', ambiguous: false });
      expect(m.daemon.daemonized).to.equal('yes');
      expect(m.workers).to.have.length(2);
      expect(m.children.map((c) => c.role)).to.deep.equal(['worker', 'worker']);
      for (const c of m.children) expect(c).to.include({ ppid: m.pid, title: 'nginx: worker process', state: 'S' });
      expect(f.binary).to.include({ exists: true, regular: true, mode: '755', uid: 0, gid: 0, dirExists: true, dirWritable: true });
      expect(f.binary.size).to.be.greaterThan(1_000_000);
      expect(f.binary.dirFreeBytes).to.be.greaterThan(0);
      expect(f.errorLog.exists).to.equal(true);
      expect(f.errorLog.size).to.be.greaterThan(0);
      expect(f.errorLog.tail.at(-1)).to.match(/start worker process \d+$/);
      expect(f.upgradeInProgress).to.equal(false);
      expect(f.blockers).to.deep.equal([]);
    },
  },
  {
    file: 'facts-after-usr2.txt',
    check: (f) => {
      const m = master(f);
      const old = f.oldMaster!;
      expect(old, 'old master').to.not.equal(null);
      expect(f.oldbinFile).to.include({ state: 'present', pid: old.pid });
      // the new master is a child of the old one, and both have their workers
      expect(m.ppid).to.equal(old.pid);
      expect(old.newMasterChild).to.equal(m.pid);
      expect(old.workers).to.have.length(2).and.not.include(m.pid);
      expect(old.children.map((c) => c.role).sort()).to.deep.equal(['master', 'worker', 'worker']);
      expect(m.workers).to.have.length(2);
      // the new master runs the new build; the old one the replaced (deleted) file
      expect(m.exeSha256).to.equal(NEW_SHA).and.equal(f.binary.sha256);
      expect(old.exeSha256).to.equal(OLD_SHA);
      expect(old.exeDeleted).to.equal(true);
      expect(old.exe).to.match(/ \(deleted\)$/);
      // the new master never forked itself: daemonized by inheritance
      expect(m.flags! & PF_FORKNOEXEC).to.equal(0);
      expect(m.sid).to.equal(old.pid);
      expect(m.daemon.daemonized).to.equal('yes');
      expect(m.daemon.rule).to.match(/USR2/);
      expect(f.upgradeInProgress).to.equal(true);
      expect(f.blockers.join('\n')).to.match(/upgrade is in progress/);
    },
  },
  {
    file: 'facts-after-winch.txt',
    check: (f) => {
      const old = f.oldMaster!;
      expect(old.exists).to.equal(true);
      expect(old.workers).to.deep.equal([]);
      expect(old.children.map((c) => c.pid)).to.deep.equal([master(f).pid]);
      expect(master(f).workers).to.have.length(2);
      expect(f.upgradeInProgress).to.equal(true);
    },
  },
  {
    file: 'facts-after-quit.txt',
    check: (f) => {
      const m = master(f);
      expect(f.oldbinFile.state).to.equal('absent');
      expect(f.oldMaster).to.equal(null);
      expect(m.exeSha256).to.equal(NEW_SHA);
      expect(m.parent?.nginxMaster).to.equal(false); // reparented
      // its session leader is the first master, now exited (here: a zombie PID 1 never reaps)
      expect(m.sid).to.not.equal(m.pid);
      expect(m.sessionLeader?.exists === false || m.sessionLeader?.state === 'Z').to.equal(true);
      expect(m.daemon.daemonized).to.equal('yes');
      expect(f.upgradeInProgress).to.equal(false);
      expect(f.blockers).to.deep.equal([]);
    },
  },
  {
    file: 'facts-after-failed-usr2.txt',
    check: (f) => {
      const m = master(f);
      // the old master took its pid file back and serves on
      expect(f.oldbinFile.state).to.equal('absent');
      expect(m.isNginxMaster).to.equal(true);
      expect(m.workers).to.have.length(2);
      expect(m.exeSha256).to.equal(OLD_SHA);
      expect(m.exeDeleted).to.equal(true);
      expect(f.binary.sha256).to.not.equal(m.exeSha256);
      expect(f.binary.size).to.be.lessThan(200);
      expect(f.errorLog.tail.join('\n')).to.match(/new binary process \d+ exited with code 1/);
      expect(f.upgradeInProgress).to.equal(false);
    },
  },
  {
    file: 'facts-stale-pid.txt',
    check: (f) => {
      const m = master(f);
      expect(m).to.include({ exists: true, isNginxMaster: false, role: 'other' });
      expect(m.cmdline).to.deep.equal(['sleep', '600']);
      expect(m.exe).to.match(/sleep$/);
      expect(m.children).to.deep.equal([]);
      expect(m.daemon.daemonized).to.equal('unknown');
      expect(f.blockers.join('\n')).to.match(/stale pid file: process \d+ is not an nginx master \(sleep 600\)/);
      expect(f.errorLog).to.deep.include({ exists: false, tail: [] });
    },
  },
  {
    file: 'facts-no-pidfile.txt',
    check: (f) => {
      expect(f.pidFile.state).to.equal('absent');
      expect(f.pidFile.pid).to.equal(undefined);
      expect(f.master).to.equal(null);
      expect(f.binary.exists).to.equal(false);
      expect(f.blockers[0]).to.match(/does not exist: nginx is not running/);
    },
  },
  {
    file: 'facts-relative-argv0.txt',
    check: (f) => {
      const m = master(f);
      expect(m.argv0).to.equal('sbin/nginx');
      expect(m.argv0Kind).to.equal('relative');
      expect(m.execPath).to.equal(`${m.cwd}/sbin/nginx`);
      expect(m.execIsBinary).to.equal(true);
      expect(m.args?.argv0).to.equal('sbin/nginx');
      expect(f.blockers).to.deep.equal([]);
    },
  },
  {
    file: 'facts-relative-argv0-other-binary.txt',
    check: (f) => {
      const m = master(f);
      expect(m.execExists).to.equal(true);
      expect(m.execIsBinary).to.equal(false); // same content, different file: dev:ino decides
      expect(f.binary.sha256).to.equal(m.exeSha256);
      expect(f.blockers.join('\n')).to.match(/not the same file as/);
    },
  },
  {
    file: 'facts-bare-argv0.txt',
    check: (f) => {
      const m = master(f);
      expect(m.argv0).to.equal('nginx');
      expect(m.argv0Kind).to.equal('bare');
      expect(m.execPath).to.equal(undefined);
      expect(m.execIsBinary).to.equal(false);
      expect(f.blockers.join('\n')).to.match(/no slash/);
    },
  },
  {
    file: 'facts-argv0-with-space.txt',
    check: (f) => {
      const m = master(f);
      expect(f.binary.path).to.include(' ');
      expect(m.argv0).to.equal(f.binary.path);
      expect(m.execIsBinary).to.equal(true);
      expect(m.args?.prefix).to.equal(prefixOf(f.pidFile.path));
      expect(m.args?.ambiguous).to.equal(true);
      expect(f.blockers).to.deep.equal([]);
    },
  },
  {
    file: 'facts-daemon-off-child.txt',
    check: (f) => {
      const m = master(f);
      expect(m.flags! & PF_FORKNOEXEC).to.equal(0);
      expect(m.sid).to.not.equal(m.pid);
      expect(m.sessionLeader).to.include({ exists: true, nginxMaster: false });
      expect(m.daemon.daemonized).to.equal('no');
      expect(f.blockers.join('\n')).to.match(/not daemonized/);
    },
  },
  {
    file: 'facts-daemon-off-setsid.txt',
    check: (f) => {
      const m = master(f);
      expect(m.flags! & PF_FORKNOEXEC).to.equal(0);
      expect(m.sid).to.equal(m.pid);
      expect(m.daemon.daemonized).to.equal('no');
      expect(m.daemon.rule).to.match(/session leader/);
    },
  },
];

describe('nginx facts parser (captured from real nginx)', () => {
  for (const c of cases) it(c.file, () => c.check(parseFacts(fixture(c.file))));

  it('rejects truncated output', () => {
    const text = fixture('facts-single-master.txt');
    expect(() => parseFacts(text.slice(0, text.length / 2))).to.throw(ScriptOutputError, /truncated/);
    expect(() => parseFacts('hello\n')).to.throw(ScriptOutputError, /not facts script output/);
  });
});

describe('nginx facts helpers', () => {
  it('decodes both string encodings', () => {
    expect(decodeStr('=/a b/c')).to.equal('/a b/c');
    expect(decodeStr('%2f610a62')).to.equal('/a\nb');
    expect(decodeStr('=')).to.equal('');
  });

  it('splits /proc cmdline on NUL and drops title padding', () => {
    expect(cmdlineToArgv(Buffer.from('sleep\x00600\x00'))).to.deep.equal(['sleep', '600']);
    expect(cmdlineToArgv(Buffer.from('a\0\0b\0'))).to.deep.equal(['a', '', 'b']);
    expect(cmdlineToArgv(Buffer.from('nginx: worker process\0\0\0\0'))).to.deep.equal(['nginx: worker process']);
    expect(cmdlineToArgv(Buffer.alloc(0))).to.deep.equal([]);
  });

  it('keeps process fields apart even with a hostile comm', () => {
    const out = '#hotswap-facts 1\nuid 0\npidfile.path_s =/x\npidfile.state present\npidfile.pid 7\n' +
      'proc master 7\np.exists 1\np.state S\np.comm_s %61292053\np.cmdline_hex 00\nend\n';
    const raw = parseLines(out, 'facts');
    expect(raw.procs[0]!.fields.get('comm_s')).to.equal('%61292053');
    expect(parseFacts(out).master?.comm).to.equal('a) S');
  });

  it('reads the fork-free keys: a whole nginx title, a pid file line, blank-separated hex', () => {
    const out = '#hotswap-facts 1\nuid 0\npidfile.path_s =/x\npidfile.state present\npidfile.line_s =7\npidfile.pid 7\n' +
      'oldbin.path_s =/x.oldbin\noldbin.state present\noldbin.content_s =8\n' +
      'proc master 7\np.exists 1\np.state S\np.comm_s =nginx\np.title_s =nginx: master process /n -g daemon on; \n' +
      'proc master.child 9\np.exists 1\np.state S\np.ppid 7\np.title_s %6e67696e783a20776f726b65722070726f63657373c3a9\n' +
      'proc master.child 10\np.exists 1\np.state S\np.ppid 7\np.cmdline_hex  73 68 00 2d 63 00\n' +
      'errorlog.path_s =/e\nerrorlog.exists 1\nerrorlog.tail_hex 61 0a 62 0a\n\nend\n';
    const f = parseFacts(out);
    expect(f.pidFile).to.include({ content: '7\n', pid: 7 });
    expect(f.oldbinFile.content).to.equal('8');
    const m = master(f);
    expect(m.cmdline).to.deep.equal(['nginx: master process /n -g daemon on; ']); // trailing blank kept
    expect(m.role).to.equal('master');
    expect(m.children.map((c) => [c.title, c.role])).to.deep.equal([['nginx: worker processé', 'worker'], ['sh -c', 'other']]);
    expect(f.errorLog.tail).to.deep.equal(['a', 'b']);
    // the old spelling (captured fixtures) reads the same
    expect(parseFacts(out.replace('p.title_s =nginx: master process /n -g daemon on; ',
      `p.cmdline_hex ${Buffer.from('nginx: master process /n -g daemon on; \0\0').toString('hex')}`)).master?.cmdline)
      .to.deep.equal(m.cmdline);
  });

  it('recovers -p/-c/-g from a master title', () => {
    const t = 'nginx: master process /usr/sbin/nginx -p /srv/ngx/ -c /etc/nginx/nginx.conf -g daemon off; worker_processes 2;';
    expect(parseMasterTitle(t, '/usr/sbin/nginx')).to.deep.equal({
      argv0: '/usr/sbin/nginx',
      words: ['-p', '/srv/ngx/', '-c', '/etc/nginx/nginx.conf', '-g', 'daemon', 'off;', 'worker_processes', '2;'],
      prefix: '/srv/ngx/', conf: '/etc/nginx/nginx.conf', globals: 'daemon off; worker_processes 2;', ambiguous: true,
    });
    expect(parseMasterTitle('nginx: master process /opt/my nginx/nginx -c/x.conf', '/opt/my nginx/nginx'))
      .to.deep.include({ argv0: '/opt/my nginx/nginx', conf: '/x.conf', ambiguous: false });
    expect(parseMasterTitle('nginx: master process nginx')).to.deep.include({ argv0: 'nginx', words: [] });
  });

  it('applies the daemon rule in order', () => {
    const base = (over: Partial<MasterInfo>): MasterInfo => ({
      pid: 100, exists: true, state: 'S', zombie: false, ppid: 1, sid: 50, flags: 0x400000,
      cmdline: ['nginx: master process /n'], title: 'nginx: master process /n', role: 'master',
      isNginxMaster: true, exeDeleted: false, canSignal: true, argv0Kind: 'absolute', execExists: true,
      execIsBinary: true, daemon: { daemonized: 'unknown', rule: '' }, children: [], workers: [], ...over,
    });
    const d = (over: Partial<MasterInfo>) => daemonRule(base(over)).daemonized;
    expect(d({ flags: 0x400040, sid: 100 })).to.equal('yes');
    expect(d({ ppid: 60, parent: { exists: true, state: 'S', nginxMaster: true } })).to.equal('yes');
    expect(d({ args: { argv0: '/n', words: [], globals: 'daemon off;', ambiguous: false } })).to.equal('no');
    expect(d({ sid: 100 })).to.equal('no');
    expect(d({ sessionLeader: { exists: false, nginxMaster: false } })).to.equal('yes');
    expect(d({ sessionLeader: { exists: true, state: 'Z', nginxMaster: false } })).to.equal('yes');
    expect(d({ sessionLeader: { exists: true, state: 'S', nginxMaster: false } })).to.equal('no');
    expect(d({ zombie: true, state: 'Z' })).to.equal('unknown');
  });
});
