// Pre-flight: reasons not to touch a host at all, read off its facts. Pure, so
// plan and apply refuse for exactly the same reasons.
import type { HostFacts } from '../nginx/facts.js';
import type { LocalBinary } from './local-binary.js';

// room for the upload and the backup, and some to spare for logs
export const DISK_MARGIN = 16 * 1024 * 1024;

/**
 * `sent`: the upload was already under way beside the binary while the facts
 * were read (see uploadEarly, which checked the room for it): the free space
 * the facts saw may already lack it, so it is not counted again.
 */
export function preflightRefusals(f: HostFacts, upload: LocalBinary | undefined, backs: boolean, sent = false): string[] {
  const reasons = [...f.blockers];
  if (upload && f.binary.dirFreeBytes !== undefined) {
    const need = (sent ? 0 : upload.size) + (backs ? f.binary.size ?? 0 : 0) + DISK_MARGIN;
    if (f.binary.dirFreeBytes < need) {
      const what = [...(sent ? [] : ['the upload']), ...(backs ? ['the backup'] : [])].join(' and ') || 'the margin';
      reasons.push(`not enough disk space beside ${f.binary.path}: ${mib(f.binary.dirFreeBytes)} free, ${mib(need)} needed for ${what}`);
    }
  }
  return reasons;
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
