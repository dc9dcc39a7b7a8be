// What `ssh HOST` takes from its config files (readconf.c, ssh.c main of
// OpenSSH 9.2): Host and Match blocks in file order, first value wins, a
// second "final" pass when the config asks for one. Works on files already
// loaded (load.ts); the only side effect is running `Match exec` commands.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { matchHostPatterns, matchPatternList } from './host-pattern.js';
import type { LoadedFile, LoadedItem } from './load.js';
import { runMatchExec } from './match-exec.js';
import { SshConfigError, type MatchCriterion } from './parse.js';
import { dollarExpand } from './keywords.js';
import { parseProxyJump, type JumpHop } from './proxy-jump.js';
import { expandTilde, percentExpand } from './tokens.js';

/** A value with the file:line it came from, for messages. */
export type Sourced<T> = { value: T; at: string };

export type StrictHostKeyChecking = 'yes' | 'no' | 'ask' | 'accept-new';

export interface HostConfig {
  /** the host to connect to: HostName with %h expanded, lowercased unless it looks like an address, as ssh does */
  hostName?: Sourced<string>;
  user?: Sourced<string>;
  port?: Sourced<number>;
  /** every IdentityFile that applies, in order (they accumulate), as written */
  identityFiles: Sourced<string>[];
  identitiesOnly?: Sourced<boolean>;
  /** `none`, `SSH_AUTH_SOCK`, or a socket path (as written) */
  identityAgent?: Sourced<string>;
  /** as written: hops separated by commas (never `none`: that clears it) */
  proxyJump?: Sourced<string>;
  /** the command as written (never `none`: that clears it) */
  proxyCommand?: Sourced<string>;
  /** empty for `none` */
  userKnownHostsFiles?: Sourced<string[]>;
  globalKnownHostsFiles?: Sourced<string[]>;
  hostKeyAlias?: Sourced<string>;
  hashKnownHosts?: Sourced<boolean>;
  strictHostKeyChecking?: Sourced<StrictHostKeyChecking>;
  /** seconds; absent for `none` */
  connectTimeout?: Sourced<number>;
  /** seconds; 0 turns keepalives off */
  serverAliveInterval?: Sourced<number>;
  serverAliveCountMax?: Sourced<number>;
  /** keys on a PKCS#11 token (never `none`): only ssh can use them */
  pkcs11Provider?: Sourced<string>;
  gssapiAuthentication?: Sourced<boolean>;
}

/** Who is asking: what `ssh [-l USER] [-p PORT] HOST` knows before reading its config. */
export interface HostQuery {
  host: string;
  /** set before the config (user@host, -l): config User does not replace it */
  user?: string;
  port?: number;
  local: { user: string; home: string; uid: number; hostname: string };
  /** runs a `Match exec` command; default: the user's shell, bounded in time */
  exec?: (command: string) => boolean;
}

type Option = Extract<LoadedItem, { kind: 'option' }>;
type Got = { args: string[]; rest: string; at: string };

const at = (o: { file: string; line: number }) => `${o.file}:${o.line}`;
const yes = (v: string) => ['yes', 'true'].includes(v.toLowerCase());

// Keywords whose every applying line counts (others: the first one wins).
const ACCUMULATE = new Set(['identityfile', 'identityfile2', 'certificatefile', 'localforward', 'remoteforward', 'dynamicforward', 'sendenv', 'setenv', 'canonicalizepermittedcnames', 'logverbose', 'permitremoteopen']);

// Why: OpenSSH reads the files top to bottom and keeps the first value it
// obtains for each keyword, so specific blocks go first and `Host *` last.
// A Match block is evaluated like ssh does, never skipped: what cannot be
// evaluated is an SshConfigError naming FILE:LINE.
export function hostConfig(files: readonly LoadedFile[], query: HostQuery | string): HostConfig {
  const q: HostQuery = typeof query === 'string' ? { host: query, local: { user: '', home: '', uid: 0, hostname: '' } } : query;
  const vals = new Map<string, Got>();
  const identityFiles: Got[] = [];
  const state = { wantFinal: false };
  const pass = (final: boolean, hostForHostLines: string, finalHost: string | undefined) => {
    const walk = (items: readonly LoadedItem[], act: { on: boolean }, neverMatch: boolean): void => {
      for (const item of items) {
        if (item.kind === 'host') act.on = !neverMatch && matchHostPatterns(item.patterns, hostForHostLines);
        else if (item.kind === 'match') {
          const r = evalMatch(item.criteria, item, q, vals, final, finalHost, neverMatch, state);
          act.on = !neverMatch && r;
        } else if (item.kind === 'include') {
          const before = act.on;
          for (const f of item.files) {
            walk(f.items, act, neverMatch || !before);
            act.on = before;
          }
        } else if (item.kind === 'unknown') {
          const ign = vals.get('ignoreunknown');
          if (!ign || !matchPatternList(item.key, ign.args[0]!, true)) throw new SshConfigError(item.file, item.line, `Bad configuration option: ${item.key}`);
        } else if (act.on) take(item, vals, identityFiles);
      }
    };
    for (const f of files) walk(f.items, { on: true }, false);
  };
  pass(false, q.host, undefined);
  const canon = vals.get('canonicalizehostname');
  if (canon && !['no', 'false'].includes(canon.args[0]!.toLowerCase())) {
    const domains = vals.get('canonicaldomains');
    if (domains && domains.args[0]!.toLowerCase() !== 'none') {
      throw new SshConfigError(canon.at.replace(/:\d+$/, ''), Number(canon.at.split(':').pop()), `CanonicalizeHostname ${canon.args[0]} with CanonicalDomains: hotswap does not look names up in DNS the way ssh does; set CanonicalizeHostname no for this host, or put the full name in HostName`);
    }
    state.wantFinal = true;
  }
  const host = finalHostName(q.host, vals.get('hostname'));
  if (state.wantFinal) pass(true, host, host);
  return build(vals, identityFiles, host, q);
}

function finalHostName(hostArg: string, hn: Got | undefined): string {
  let h = hostArg;
  if (hn) {
    try {
      h = percentExpand(hn.args[0]!, { h: hostArg });
    } catch (e) {
      throw new Error(`${hn.at}: HostName: ${(e as Error).message}`);
    }
  }
  return isAddr(h) ? h : h.toLowerCase();
}

// Why: ssh lowercases the host name unless it looks like an address
// (ssh.c is_addr_fast: a `%` scope, a `:`, or only digits and dots), so
// `HostName Db%%1` stays as written.
function isAddr(h: string): boolean {
  return isIP(h) !== 0 || h.includes('%') || h.includes(':') || /^[0-9.]*$/.test(h);
}

function take(o: Option, vals: Map<string, Got>, identityFiles: Got[]): void {
  const got = { args: o.args, rest: o.rest, at: at(o) };
  const key = o.key === 'identityfile2' ? 'identityfile' : o.key;
  if (key === 'identityfile') {
    if (!identityFiles.some((f) => f.args[0] === o.args[0])) identityFiles.push(got);
    return;
  }
  if (ACCUMULATE.has(key)) return; // not used by hotswap; checked while parsing
  // a ProxyJump that came first takes the slot; `ProxyJump none` does not (readconf.c parse_jump)
  if (key === 'proxycommand' && vals.has('proxyjump') && vals.get('proxyjump')!.rest.toLowerCase() !== 'none') return;
  if (key === 'proxyjump') {
    if (vals.has('proxycommand') || vals.has('proxyjump')) return;
    const spec = o.rest.replace(/#.*$/, '').trimEnd();
    if (spec.toLowerCase() !== 'none') {
      try {
        parseProxyJump(spec);
      } catch (e) {
        throw new SshConfigError(o.file, o.line, `Invalid ProxyJump "${spec}": ${(e as Error).message}`);
      }
    }
    vals.set(key, { ...got, rest: spec });
    return;
  }
  if (!vals.has(key)) vals.set(key, got);
}

function evalMatch(criteria: MatchCriterion[], item: { file: string; line: number }, q: HostQuery, vals: Map<string, Got>, final: boolean, finalHost: string | undefined, neverMatch: boolean, state: { wantFinal: boolean }): boolean {
  const port = q.port ?? (vals.get('port') ? Number(vals.get('port')!.args[0]) || 22 : 22);
  const ruser = q.user ?? vals.get('user')?.args[0] ?? q.local.user;
  let host: string;
  if (final) host = finalHost!;
  else {
    const hn = vals.get('hostname');
    host = hn ? percentExpandSafe(hn.args[0]!, { h: q.host }, item) : q.host;
  }
  let result = true;
  for (const c of criteria) {
    let r: boolean;
    switch (c.attr) {
      case 'all': return result ? !c.negate : false;
      case 'canonical':
      case 'final':
        if (c.attr === 'final') state.wantFinal = true;
        r = final;
        break;
      case 'host': r = matchPatternList(host, c.arg, true); break;
      case 'originalhost': r = matchPatternList(q.host, c.arg, true); break;
      case 'user': r = matchPatternList(ruser, c.arg, false); break;
      case 'localuser': r = matchPatternList(q.local.user, c.arg, false); break;
      case 'exec': {
        const thishost = q.local.hostname;
        const alias = vals.get('hostkeyalias')?.args[0] ?? host;
        const cmd = percentExpandSafe(c.arg, {
          C: createHash('sha1').update(`${thishost}${host}${port}${ruser}`).digest('hex'),
          L: thishost.split('.')[0]!, d: q.local.home, h: host, k: alias, l: thishost, n: q.host,
          p: String(port), r: ruser, u: q.local.user, i: String(q.local.uid),
        }, item);
        if (!result || neverMatch) continue; // ssh skips the command once the line cannot match
        try {
          r = (q.exec ?? runMatchExec)(cmd);
        } catch (e) {
          throw new SshConfigError(item.file, item.line, `Match exec ${JSON.stringify(cmd)}: ${(e as Error).message}`);
        }
        break;
      }
    }
    if (r === c.negate) result = false;
  }
  return result;
}

function percentExpandSafe(value: string, tokens: Record<string, string>, item: { file: string; line: number }): string {
  try {
    return percentExpand(value, tokens);
  } catch (e) {
    throw new SshConfigError(item.file, item.line, (e as Error).message);
  }
}

function build(vals: Map<string, Got>, ids: Got[], host: string, q: HostQuery): HostConfig {
  const out: HostConfig = { identityFiles: ids.map((g) => ({ value: g.args[0]!, at: g.at })) };
  const s = <T>(g: Got, value: T): Sourced<T> => ({ value, at: g.at });
  const get = (k: string) => vals.get(k);
  let g: Got | undefined;
  out.hostName = { value: host, at: get('hostname')?.at ?? 'the host name' };
  if ((g = get('user'))) out.user = s(g, g.args[0]!);
  if ((g = get('port'))) out.port = s(g, Number(/^[0-9]+$/.test(g.args[0]!) ? g.args[0] : NaN));
  if ((g = get('identitiesonly'))) out.identitiesOnly = s(g, yes(g.args[0]!));
  if ((g = get('identityagent'))) out.identityAgent = s(g, g.args[0]!);
  if ((g = get('proxyjump')) && g.rest.toLowerCase() !== 'none') out.proxyJump = s(g, g.rest);
  if ((g = get('proxycommand')) && g.rest.toLowerCase() !== 'none') out.proxyCommand = s(g, g.rest);
  if ((g = get('userknownhostsfile'))) out.userKnownHostsFiles = s(g, knownHostsList(g, 'UserKnownHostsFile'));
  if ((g = get('globalknownhostsfile'))) out.globalKnownHostsFiles = s(g, knownHostsList(g, 'GlobalKnownHostsFile'));
  if ((g = get('hostkeyalias'))) out.hostKeyAlias = s(g, g.args[0]!.toLowerCase());
  if ((g = get('hashknownhosts'))) out.hashKnownHosts = s(g, yes(g.args[0]!));
  if ((g = get('stricthostkeychecking'))) {
    const l = g.args[0]!.toLowerCase();
    out.strictHostKeyChecking = s(g, l === 'true' ? 'yes' : l === 'false' || l === 'off' ? 'no' : (l as StrictHostKeyChecking));
  }
  if ((g = get('connecttimeout')) && g.args[0] !== 'none') out.connectTimeout = s(g, convtimeOf(g.args[0]!));
  if ((g = get('serveraliveinterval'))) out.serverAliveInterval = s(g, g.args[0] === 'none' ? 0 : convtimeOf(g.args[0]!));
  if ((g = get('serveralivecountmax'))) out.serverAliveCountMax = s(g, Number(g.args[0]));
  if ((g = get('pkcs11provider')) && g.args[0]!.toLowerCase() !== 'none') out.pkcs11Provider = s(g, g.args[0]!);
  if ((g = get('gssapiauthentication'))) out.gssapiAuthentication = s(g, yes(g.args[0]!));
  // Settings that change how or where ssh connects and that hotswap's own SSH does not do.
  if ((g = get('proxyusefdpass')) && yes(g.args[0]!)) refuse(g, 'ProxyUseFdpass yes: hotswap cannot take a connection passed by the ProxyCommand; remove it for this host');
  if (out.proxyCommand?.value === '-') refuse(get('proxycommand')!, 'ProxyCommand - (ssh\'s own stdin/stdout) cannot be used by hotswap');
  void q;
  return out;
}

function refuse(g: Got, why: string): never {
  const i = g.at.lastIndexOf(':');
  throw new SshConfigError(g.at.slice(0, i), Number(g.at.slice(i + 1)), why);
}

function knownHostsList(g: Got, name: string): string[] {
  if (g.args[0]!.toLowerCase() === 'none') {
    if (g.args.length > 1) refuse(g, `Invalid ${name}s: "none" appears with other entries`);
    return [];
  }
  return g.args;
}

function convtimeOf(v: string): number {
  let total = 0;
  for (const m of v.matchAll(/([0-9]+)([sSmMhHdDwW]?)/g)) total += Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2]!.toLowerCase()]!);
  return total;
}

/** `${VAR}` and then `~` in a path value, as ssh does for IdentityAgent and known_hosts files. */
export function expandPathValue(value: string, home: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const d = dollarExpand(value, env);
  return d === null ? null : expandTilde(d, home);
}

export type { JumpHop };
