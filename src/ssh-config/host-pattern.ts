// Host patterns as ssh_config(5) defines them: `*` and `?` wildcards, a
// leading `!` negates. Pure.

// Why: `Host` lines and known_hosts both compare names this way, ignoring case.
export function matchPattern(pattern: string, text: string): boolean {
  return globRegExp(pattern, 'i').test(text);
}

/** `*` and `?` as a whole-string regular expression; every other character literal. */
export function globRegExp(pattern: string, flags = ''): RegExp {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, `s${flags}`);
}

// Why: a `Host` line applies when one positive pattern matches and no negated
// one does (a line of only negations never applies), exactly like `ssh`.
export function matchHostPatterns(patterns: readonly string[], host: string): boolean {
  let hit = false;
  for (const p of patterns) {
    const negated = p.startsWith('!');
    if (!matchPattern(negated ? p.slice(1) : p, host)) continue;
    if (negated) return false;
    hit = true;
  }
  return hit;
}
