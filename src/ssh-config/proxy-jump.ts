// ProxyJump / `ssh -J` values. Pure.

export interface JumpHop {
  /** the host as written: matched against `Host` patterns like any destination */
  host: string;
  user?: string;
  port?: number;
}

// Why: `proxy_jump:` and ProxyJump take the same list as `ssh -J`: hops in
// order, each `[user@]host[:port]` or `ssh://[user@]host[:port]`, IPv6 in
// brackets; `none` means no jump. Returns [] for none.
export function parseProxyJump(spec: string): JumpHop[] {
  const text = spec.trim();
  if (text.toLowerCase() === 'none') return [];
  return text.split(',').map((raw) => {
    const hop = raw.trim();
    const fail = (why: string) => new Error(`bad jump host ${JSON.stringify(hop)} in ${JSON.stringify(spec)}: ${why}`);
    if (!hop) throw fail('empty hop');
    let rest = hop.startsWith('ssh://') ? hop.slice(6).replace(/\/$/, '') : hop;
    let user: string | undefined;
    const atSign = rest.lastIndexOf('@');
    if (atSign >= 0) {
      user = rest.slice(0, atSign);
      rest = rest.slice(atSign + 1);
      if (!user) throw fail('empty user');
    }
    let host = rest;
    let portText: string | undefined;
    const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(rest);
    if (v6) {
      host = v6[1]!;
      portText = v6[2];
    } else if (rest.includes(':')) {
      if (rest.indexOf(':') !== rest.lastIndexOf(':')) throw fail('an IPv6 address needs brackets, as in [::1]:22');
      [host, portText] = rest.split(':') as [string, string];
    }
    if (!host || /\s|^-/.test(host)) throw fail('no usable host name');
    if (user !== undefined && /\s|^-/.test(user)) throw fail('no usable user name');
    let port: number | undefined;
    if (portText !== undefined) {
      port = Number(portText);
      if (!/^[0-9]+$/.test(portText) || port < 1 || port > 65535) throw fail(`port must be 1-65535, got ${JSON.stringify(portText)}`);
    }
    return { host, ...(user !== undefined ? { user } : {}), ...(port !== undefined ? { port } : {}) };
  });
}
