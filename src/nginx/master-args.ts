// An nginx master's arguments and whether it is daemonized, read from the
// facts (its title, its task flags, its parent and session leader).
import { PF_FORKNOEXEC } from './process.js';
import type { DaemonInfo, MasterArgs, MasterInfo } from './facts-types.js';

const OPTION_WORD = /^-[?hvVtTqpcges]/;

/**
 * Recover a master's arguments from its title. nginx sets the title to
 * `nginx: master process ` + its argv joined by single spaces, so the original
 * boundaries are lost: argv[0] comes from the script (which tries space-separated
 * prefixes against the file system); an option value runs until the next word
 * that looks like an option (`-g "daemon off; worker_processes 2;"` comes back
 * whole). Parsing follows ngx_get_options: `-p X` or `-pX`, same for c, g, e, s.
 */
export function parseMasterTitle(title: string, argv0?: string): MasterArgs {
  const PREFIX = 'nginx: master process';
  let rest = title.startsWith(PREFIX) ? title.slice(PREFIX.length) : title;
  if (rest.startsWith(' ')) rest = rest.slice(1);
  let a0: string;
  let after: string;
  if (argv0 !== undefined && argv0 !== '' && (rest === argv0 || rest.startsWith(argv0 + ' '))) {
    a0 = argv0;
    after = rest.slice(argv0.length + 1);
  } else {
    const sp = rest.indexOf(' ');
    a0 = sp < 0 ? rest : rest.slice(0, sp);
    after = sp < 0 ? '' : rest.slice(sp + 1);
  }
  const words = after === '' ? [] : after.split(' ');
  const out: MasterArgs = { argv0: a0, words, ambiguous: false };
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (!w.startsWith('-') || w.length < 2) continue;
    const opt = w[1]!;
    if (!'pcges'.includes(opt)) continue;
    const parts: string[] = [];
    if (w.length > 2) parts.push(w.slice(2));
    else {
      while (i + 1 < words.length && !(parts.length > 0 && OPTION_WORD.test(words[i + 1]!))) {
        parts.push(words[++i]!);
      }
    }
    if (parts.length > 1) out.ambiguous = true;
    const value = parts.join(' ');
    if (opt === 'p') out.prefix = value;
    else if (opt === 'c') out.conf = value;
    else if (opt === 'g') out.globals = value;
  }
  return out;
}

/**
 * Is this master daemonized, in nginx's sense? It matters twice: WINCH is
 * ignored unless `ngx_daemonized`, and USR2 is ignored while getppid() still
 * equals the parent nginx started under. /proc/PID/environ cannot tell (nginx's
 * setproctitle overwrites the environment area with the title and NUL padding),
 * and ppid/sid alone cannot either (systemd starts a `daemon off` nginx with
 * ppid 1 and setsid, exactly like a daemonized one). The decisive fact is the
 * kernel's PF_FORKNOEXEC task flag (field 9 of /proc/PID/stat): ngx_daemon()
 * forks and the child becomes the master without exec'ing, so a daemonized
 * original master has it; a `daemon off` master IS the exec'd process and does not.
 * A master started by USR2 (exec'd, no flag) is daemonized by nginx's rules
 * (inherited sockets), and keeps the session of the first, daemonized master.
 *
 * Rules, first match wins:
 *  1. flags has PF_FORKNOEXEC -> yes (forked by ngx_daemon, then setsid)
 *  2. the parent is a live nginx master -> yes (new binary of an upgrade in progress)
 *  3. `-g` on the command line says `daemon off` -> no
 *  4. sid == pid -> no (a session leader that never forked: a supervisor ran
 *     setsid for it: systemd, docker, setsid(1))
 *  5. the session leader is gone, a zombie, or an nginx master -> yes (exec'd by
 *     an earlier upgrade; the first master, whose session it kept, has exited)
 *  6. otherwise -> no (it lives in the session of a live non-nginx process:
 *     a shell, supervisord: `daemon off` under that process)
 * Known miss: a `daemon off` nginx whose session leader has exited (nohup from
 * a shell that logged out) reads as "yes"; WINCH then does nothing and the
 * old-workers-exited wait times out, which triggers the rollback.
 */
export function daemonRule(m: MasterInfo): DaemonInfo {
  if (!m.exists || m.zombie || m.flags === undefined || m.sid === undefined) {
    return { daemonized: 'unknown', rule: 'no live process to look at' };
  }
  if (!m.isNginxMaster) return { daemonized: 'unknown', rule: 'not an nginx master' };
  if ((m.flags & PF_FORKNOEXEC) !== 0) {
    return { daemonized: 'yes', rule: 'forked without exec (PF_FORKNOEXEC): nginx daemonized itself' };
  }
  if (m.parent?.exists && m.parent.nginxMaster && m.parent.state !== 'Z') {
    return { daemonized: 'yes', rule: `new binary started by USR2 of master ${m.ppid}` };
  }
  if (m.args?.globals !== undefined && /(^|;)\s*daemon\s+off\s*;/.test(m.args.globals)) {
    return { daemonized: 'no', rule: 'started with -g "daemon off;"' };
  }
  if (m.sid === m.pid) {
    return { daemonized: 'no', rule: 'exec\'d session leader: a supervisor (systemd, docker, setsid) runs it with daemon off' };
  }
  const leader = m.sessionLeader;
  if (leader && (!leader.exists || leader.state === 'Z' || leader.nginxMaster)) {
    return { daemonized: 'yes', rule: `started by an earlier upgrade (session leader ${m.sid} ${leader.exists ? (leader.state === 'Z' ? 'is a zombie' : 'is an nginx master') : 'has exited'})` };
  }
  if (!leader) return { daemonized: 'unknown', rule: 'session leader not reported' };
  return { daemonized: 'no', rule: `runs under live process ${m.sid} (its session leader): daemon off under a shell or supervisor` };
}
