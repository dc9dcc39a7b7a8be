import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { InventoryErrors } from '../../src/inventory/inventory.js';

export const FLEET = new URL('../fixtures/inventory/fleet/', import.meta.url).pathname;

const made: string[] = [];
after(() => made.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Writes `files` (relative path -> content) into a fresh temp dir and returns the dir. */
export function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-inventory-'));
  made.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

/** Runs fn, expecting InventoryErrors; returns each error as `line:col reason` (or just the reason). */
export function errorsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof InventoryErrors)) throw e;
    return e.errors.map((x) => (x.line ? `${x.line}:${x.col} ${x.reason}` : x.reason));
  }
  throw new Error('expected InventoryErrors, nothing was thrown');
}
