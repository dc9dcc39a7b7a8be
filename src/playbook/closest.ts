// "did you mean": the candidate within a small edit distance of what was typed.
// Why: suggestions are a help, not a cost: past these sizes (a hostile file's
// thousands of names, a 1 MiB key) there is simply no suggestion.
export function closest(word: string, candidates: readonly string[]): string | undefined {
  if (word.length > 64 || candidates.length > 1000) return undefined;
  let best: string | undefined;
  let bestDist = Infinity;
  for (const c of candidates) {
    if (c.length > 64) continue;
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDist) [best, bestDist] = [c, d];
  }
  return bestDist <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
