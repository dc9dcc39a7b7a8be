// `~` and `%` tokens in ssh_config values (IdentityFile, UserKnownHostsFile,
// HostName). Pure: every value comes in as an argument.

/** ssh_config(5) TOKENS that hotswap knows; keys are the letter after `%`. */
export type Tokens = Partial<Record<'h' | 'n' | 'p' | 'r' | 'u' | 'd' | 'i' | 'l' | 'L', string>>;

// Why: `~/.ssh/id_ed25519` in a config means the operator's home, not the cwd.
export function expandTilde(path: string, home: string): string {
  return path === '~' || path.startsWith('~/') ? home + path.slice(1) : path;
}

// Why: `IdentityFile ~/.ssh/%h.key` and friends must name the same file `ssh` would;
// an unknown token is an error naming where it is (ssh refuses it too).
export function expandTokens(value: string, tokens: Tokens, where: string): string {
  return value.replace(/%(.)/gs, (all, c: string) => {
    if (c === '%') return '%';
    const v = tokens[c as keyof Tokens];
    if (v === undefined) throw new Error(`${where}: unsupported token %${c} in ${JSON.stringify(value)}`);
    return v;
  });
}

// Why: ssh's percent_expand refuses a token it was not given for this
// keyword (HostName takes only %h, Match exec and ProxyCommand their own sets).
export function percentExpand(value: string, tokens: Record<string, string>): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== '%') { out += value[i]; continue; }
    const c = value[++i];
    if (c === undefined) throw new Error(`invalid format "${value}": a lone % at the end`);
    if (c === '%') { out += '%'; continue; }
    const v = Object.prototype.hasOwnProperty.call(tokens, c) ? tokens[c] : undefined;
    if (v === undefined) throw new Error(`unknown token %${c} in "${value}"`);
    out += v;
  }
  return out;
}
