// Pre-flight: reasons not to touch a host at all, read off its facts. Pure, so
// plan and apply refuse for exactly the same reasons.
import type { HostFacts } from '../nginx/facts.js';
import type { LocalBinary } from './local-binary.js';

// room for the upload and the backup, and some to spare for logs
export const DISK_MARGIN = 16 * 1024 * 1024;

export function preflightRefusals(f: HostFacts, upload: LocalBinary | undefined, backs: boolean): string[] {
  const reasons = [...f.blockers];
  if (upload && f.binary.dirFreeBytes !== undefined) {
    const need = upload.size + (backs ? f.binary.size ?? 0 : 0) + DISK_MARGIN;
    if (f.binary.dirFreeBytes < need) {
      reasons.push(`not enough disk space beside ${f.binary.path}: ${mib(f.binary.dirFreeBytes)} free, ${mib(need)} needed for the upload${backs ? ' and the backup' : ''}`);
    }
  }
  return reasons;
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
