// Why: a batch's hosts run in parallel, but never more than `limit` at once.
// Runs `work` over `items` with at most `limit` in flight; results in input
// order. Once `stop()` is true no new item starts (its result stays undefined).
export async function pool<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>, stop?: () => boolean): Promise<(R | undefined)[]> {
  const results: (R | undefined)[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length && !stop?.()) {
      const i = next++;
      results[i] = await work(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  return results;
}
