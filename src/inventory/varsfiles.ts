import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { InventoryError } from './errors.js';
import { readSource } from './source.js';
import { plain, readYaml } from './yaml.js';

const EXTENSIONS = ['.yml', '.yaml', '.json'];

// One source of vars, kept with its file so an error can name where a value came from.
export interface VarsLayer {
  file: string;
  vars: Record<string, unknown>;
}

// Ansible's host_group_vars lookup in one directory (group_vars/ or host_vars/):
// `<name>` (a file, or a directory read recursively in sorted order), else
// `<name>.yml`, `.yaml`, `.json`; the first that exists is the only one read.
// Names are looked up in the listing, so a name can never reach outside `dir`.
export function varsDir(dir: string, errors: InventoryError[], warnings: string[]): (name: string) => VarsLayer[] {
  const list = (path: string, read: () => string[]): string[] => {
    try {
      return read();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') errors.push(new InventoryError(path, `cannot be listed (${code})`));
      return [];
    }
  };
  const names = new Set(list(dir, () => readdirSync(dir)));
  return (name) => {
    const found = ['', ...EXTENSIONS].map((ext) => name + ext).find((n) => names.has(n));
    if (found === undefined) return [];
    const path = join(dir, found);
    return list(path, () => (isDir(path) ? filesIn(path) : [path])).map((file) => ({ file, vars: loadVarsFile(file, errors, warnings) }));
  };
}

function filesIn(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .filter((n) => !n.startsWith('.') && !n.endsWith('~'))
    .flatMap((n) => {
      const path = join(dir, n);
      const ext = extname(n);
      if (isDir(path)) return ext ? [] : filesIn(path);
      return !ext || EXTENSIONS.includes(ext) ? [path] : [];
    });
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function loadVarsFile(file: string, errors: InventoryError[], warnings: string[]): Record<string, unknown> {
  const text = readSource(file);
  if (text instanceof InventoryError) {
    errors.push(text);
    return {};
  }
  if (/^\s*\$ANSIBLE_VAULT;/.test(text)) {
    warnings.push(`${file}: skipped, it is vault-encrypted and hotswap cannot decrypt it`);
    return {};
  }
  const y = readYaml(text, file);
  if (Array.isArray(y)) {
    errors.push(...y);
    return {};
  }
  const vars = plain(y.data ?? new Map());
  if (typeof vars === 'object' && !Array.isArray(vars)) return vars as Record<string, unknown>;
  errors.push(y.error(`expected a mapping of variables, got ${JSON.stringify(vars)}`));
  return {};
}
