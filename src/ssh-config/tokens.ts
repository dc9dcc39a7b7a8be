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
