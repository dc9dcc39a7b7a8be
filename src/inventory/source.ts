import { readFileSync, statSync } from 'node:fs';
import { InventoryError } from './errors.js';

const MAX_BYTES = 10 * 1024 * 1024;

// Reads a file an operator pointed at, turning every way that fails into one
// plain sentence: missing, a directory, unreadable, absurdly large.
export function readSource(file: string): string | InventoryError {
  try {
    const st = statSync(file);
    if (st.isDirectory()) return new InventoryError(file, 'is a directory, expected a file');
    if (!st.isFile()) return new InventoryError(file, 'is not a regular file');
    if (st.size > MAX_BYTES) {
      return new InventoryError(file, `is ${(st.size / 1048576).toFixed(1)} MB; the limit is ${MAX_BYTES / 1048576} MB`);
    }
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return new InventoryError(file, 'no such file');
    if (code === 'EACCES' || code === 'EPERM') return new InventoryError(file, 'cannot be read: permission denied');
    return new InventoryError(file, `cannot be read (${code ?? (e as Error).message})`);
  }
}
