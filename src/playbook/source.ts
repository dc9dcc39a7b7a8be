// Reads a playbook (or inventory) file defensively: whatever an operator points
// hotswap at, the answer is one clear line, never a stack trace.
import { readFileSync, statSync } from 'node:fs';
import { PlaybookError } from '../errors.js';

export const MAX_PLAYBOOK_BYTES = 1024 * 1024;

export function readTextFile(file: string, what = 'playbook'): string {
  const fail = (message: string): never => {
    throw new PlaybookError([{ file, line: 1, col: 1, message }]);
  };
  let size = 0;
  try {
    const st = statSync(file);
    if (st.isDirectory()) fail(`is a directory, not a ${what} file`);
    if (!st.isFile()) fail(`is not a regular file`);
    size = st.size;
  } catch (err) {
    if (err instanceof PlaybookError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    fail(code === 'ENOENT' ? `no such file` : code === 'EACCES' ? 'permission denied' : `cannot read (${code ?? String(err)})`);
  }
  if (size > MAX_PLAYBOOK_BYTES) fail(`too large for a ${what} (${(size / 1024 / 1024).toFixed(1)} MiB; the limit is 1 MiB)`);
  let buf: Buffer = Buffer.alloc(0);
  try {
    buf = readFileSync(file);
  } catch (err) {
    fail(`cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (buf.includes(0)) fail(`is a binary file, not a YAML ${what}`);
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    fail(`is not UTF-8 text`);
  }
  if (text.trim() === '') fail(what === 'playbook' ? 'is empty: a playbook needs at least version, hosts, nginx and steps' : 'is empty');
  return text;
}
