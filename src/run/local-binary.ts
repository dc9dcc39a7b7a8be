// The new build on the control machine: read once, hashed, checked against
// the playbook's sha256 before any host is contacted. The bytes hashed are
// the bytes uploaded: a file replaced on the control machine after the check
// cannot reach a host under the checked digest.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';

export interface LocalBinary {
  path: string;
  sha256: string;
  size: number;
  /** the file's content as hashed: what every host receives */
  bytes: Buffer;
}

export async function localBinary(playbookDir: string, src: string, expected?: string): Promise<LocalBinary> {
  const path = resolve(playbookDir, src.replace(/^~(?=\/)/, process.env.HOME ?? '~'));
  let bytes: Buffer;
  try {
    if (!(await stat(path)).isFile()) throw new UsageError(`copy-binary: ${path} is not a regular file`);
    bytes = await readFile(path);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`copy-binary: the new binary ${path} does not exist or cannot be read`);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (expected && expected !== sha256) {
    throw new UsageError(`copy-binary: ${path} has sha256 ${sha256}, but the playbook expects ${expected}: refusing to upload it`);
  }
  return { path, sha256, size: bytes.length, bytes };
}
