// The new build on the control machine: found, hashed once, checked against
// the playbook's sha256 before any host is contacted.
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError, Exit } from '../cli/exit.js';

export interface LocalBinary {
  path: string;
  sha256: string;
  size: number;
}

export async function localBinary(playbookDir: string, src: string, expected?: string): Promise<LocalBinary> {
  const path = resolve(playbookDir, src.replace(/^~(?=\/)/, process.env.HOME ?? '~'));
  let size = 0;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new CliError(`copy-binary: ${path} is not a regular file`, Exit.usage);
    size = st.size;
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`copy-binary: the new binary ${path} does not exist or cannot be read`, Exit.usage);
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  const sha256 = hash.digest('hex');
  if (expected && expected !== sha256) {
    throw new CliError(`copy-binary: ${path} has sha256 ${sha256}, but the playbook expects ${expected}: refusing to upload it`, Exit.usage);
  }
  return { path, sha256, size };
}
