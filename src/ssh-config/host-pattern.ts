// Host patterns as ssh_config(5) defines them: `*` and `?` wildcards, a
// leading `!` negates. Pure.

export function matchPattern(pattern: string, text: string, ignoreCase = false): boolean {
  return globRegExp(pattern, ignoreCase ? 'i' : '').test(text);
}

/** `*` and `?` as a whole-string regular expression; every other character literal. */
export function globRegExp(pattern: string, flags = ''): RegExp {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, `s${flags}`);
}

// Why: a `Host` line applies when one positive pattern matches and no negated
// one does (a line of only negations never applies), exactly like `ssh`, which
// compares the name as typed, case and all (readconf.c match_pattern).
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

// Why: `Match host a,b,!c` and IgnoreUnknown take a comma-separated list
// (match.c match_pattern_list): a negated hit refuses, else any positive hit
// matches. `lower` lowercases both sides, as for host names.
export function matchPatternList(text: string, list: string, lower: boolean): boolean {
  let hit = false;
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    const p = negated ? raw.slice(1) : raw;
    if (!matchPattern(lower ? p.toLowerCase() : p, lower ? text.toLowerCase() : text)) continue;
    if (negated) return false;
    hit = true;
  }
  return hit;
}
