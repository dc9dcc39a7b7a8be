// Ansible's `serial`: batch sizes from a count, a percentage of all hosts
// (rounded down, at least 1) or a list whose last item repeats.
export type SerialItem = number | string;

export function batchSize(item: SerialItem, total: number): number {
  if (typeof item === 'number') return Math.max(1, Math.floor(item));
  const pct = Number(item.trim().replace(/%$/, ''));
  return Math.max(1, Math.floor((total * pct) / 100));
}

export function makeBatches<T>(hosts: readonly T[], serial: SerialItem | SerialItem[] | undefined): T[][] {
  if (hosts.length === 0) return [];
  const items = serial === undefined ? [hosts.length] : Array.isArray(serial) ? serial : [serial];
  const batches: T[][] = [];
  let i = 0;
  let k = 0;
  while (i < hosts.length) {
    const size = batchSize(items[Math.min(k, items.length - 1)], hosts.length);
    batches.push(hosts.slice(i, i + size));
    i += size;
    k++;
  }
  return batches;
}
