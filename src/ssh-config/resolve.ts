// What `ssh HOST` takes from its config files, for the keywords hotswap uses.
// Pure: works on files already loaded (load.ts).
import { matchHostPatterns } from './host-pattern.js';
import type { LoadedFile, LoadedItem } from './load.js';

/** A value with the file:line it came from, for messages. */
export type Sourced<T> = { value: T; at: string };

export type StrictHostKeyChecking = 'yes' | 'no' | 'ask' | 'accept-new';

export interface HostConfig {
  hostName?: Sourced<string>;
  user?: Sourced<string>;
  port?: Sourced<number>;
  /** every IdentityFile that applies, in order (they accumulate) */
  identityFiles: Sourced<string>[];
  identitiesOnly?: Sourced<boolean>;
  /** `none`, `SSH_AUTH_SOCK`, or a socket path */
  identityAgent?: Sourced<string>;
  /** as written: hops separated by commas, or `none` */
  proxyJump?: Sourced<string>;
  proxyCommand?: Sourced<string>;
  /** empty for `none` */
  userKnownHostsFiles?: Sourced<string[]>;
  globalKnownHostsFiles?: Sourced<string[]>;
  hostKeyAlias?: Sourced<string>;
  hashKnownHosts?: Sourced<boolean>;
  strictHostKeyChecking?: Sourced<StrictHostKeyChecking>;
  /** seconds */
  connectTimeout?: Sourced<number>;
  /** seconds; 0 turns keepalives off */
  serverAliveInterval?: Sourced<number>;
  serverAliveCountMax?: Sourced<number>;
}

type Option = Extract<LoadedItem, { kind: 'option' }>;

// Why: OpenSSH reads the files top to bottom and keeps the first value it
// obtains for each keyword (IdentityFile accumulates), so specific `Host`
// blocks go first and `Host *` last. An Include applies only inside a block
// that applies; Match blocks (other than `Match all`) are skipped.
export function hostConfig(files: readonly LoadedFile[], host: string): HostConfig {
  const out: HostConfig = { identityFiles: [] };
  const seen = new Set<string>();
  const walk = (items: readonly LoadedItem[], startActive: boolean): void => {
    let active = startActive;
    for (const item of items) {
      if (item.kind === 'host') active = matchHostPatterns(item.patterns, host);
      else if (item.kind === 'match') active = item.criteria.length === 1 && item.criteria[0]!.toLowerCase() === 'all';
      else if (!active) continue;
      else if (item.kind === 'include') for (const f of item.files) walk(f.items, true);
      else if (item.key === 'identityfile') out.identityFiles.push({ value: item.args[0]!, at: at(item) });
      else if (!seen.has(slot(item.key))) {
        seen.add(slot(item.key));
        apply(out, item);
      }
    }
  };
  for (const f of files) walk(f.items, true);
  return out;
}

// ProxyJump and ProxyCommand are one setting: whichever comes first wins.
const slot = (key: string) => (key === 'proxyjump' || key === 'proxycommand' ? 'proxy' : key);
const at = (o: { file: string; line: number }) => `${o.file}:${o.line}`;
const yes = (v: string) => ['yes', 'true'].includes(v.toLowerCase());

function apply(out: HostConfig, o: Option): void {
  const s = <T>(value: T): Sourced<T> => ({ value, at: at(o) });
  const v = o.args[0]!;
  switch (o.key) {
    case 'hostname': out.hostName = s(v); break;
    case 'user': out.user = s(v); break;
    case 'port': out.port = s(Number(v)); break;
    case 'identitiesonly': out.identitiesOnly = s(yes(v)); break;
    case 'identityagent': out.identityAgent = s(v); break;
    case 'proxyjump': out.proxyJump = s(o.args.join(',')); break;
    case 'proxycommand': out.proxyCommand = s(o.args.join(' ')); break;
    case 'userknownhostsfile': out.userKnownHostsFiles = s(v.toLowerCase() === 'none' ? [] : o.args); break;
    case 'globalknownhostsfile': out.globalKnownHostsFiles = s(v.toLowerCase() === 'none' ? [] : o.args); break;
    case 'hostkeyalias': out.hostKeyAlias = s(v); break;
    case 'hashknownhosts': out.hashKnownHosts = s(yes(v)); break;
    case 'stricthostkeychecking': {
      const l = v.toLowerCase();
      out.strictHostKeyChecking = s(l === 'true' ? 'yes' : l === 'false' || l === 'off' ? 'no' : (l as StrictHostKeyChecking));
      break;
    }
    case 'connecttimeout': out.connectTimeout = s(Number(v)); break;
    case 'serveraliveinterval': out.serverAliveInterval = s(Number(v)); break;
    case 'serveralivecountmax': out.serverAliveCountMax = s(Number(v)); break;
    default: break; // a keyword hotswap does not use
  }
}
