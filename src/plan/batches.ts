// Ansible's `serial`: batch sizes from a count, a percentage of all hosts
// (rounded down, at least 1) or a list whose last item repeats.

// Why: the playbook's serial item as the schema admits it: 3 or "25%".
export type SerialItem = number | string;

// Why: one serial item as a number of hosts, given the whole (selected) fleet.
export function batchSize(item: SerialItem, total: number): number {
  if (typeof item === 'number') return Math.max(1, Math.floor(item));
  const pct = Number(item.trim().replace(/%$/, ''));
  if (!Number.isFinite(pct)) throw new Error(`serial ${JSON.stringify(item)} is not a count or a percentage`);
  // 2.3% of 1000 is 23, though 2.3 * 1000 is 2299.9999999999995 in floating point
  return Math.max(1, Math.floor((total * pct) / 100 + 1e-9));
}

// Why: the plan, the confirmation summary and the rollout must cut the fleet the same way.
export function makeBatches<T>(hosts: readonly T[], serial: SerialItem | SerialItem[] | undefined): T[][] {
  if (hosts.length === 0) return [];
  const items = serial === undefined ? [hosts.length] : Array.isArray(serial) ? (serial.length ? serial : [hosts.length]) : [serial];
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
