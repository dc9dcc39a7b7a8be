import { readdirSync, realpathSync, statSync } from 'node:fs';
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
      if (code === 'ETOOMANY') errors.push(new InventoryError(path, (e as Error).message));
      else if (code !== 'ENOENT' && code !== 'ENOTDIR') errors.push(new InventoryError(path, `cannot be listed (${code})`));
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

// A vars directory holds a handful of files; a symlink back up the tree (or
// two, which doubles the walk at every level) must end, not hang.
const MAX_VARS_FILES = 1000;

function filesIn(top: string): string[] {
  const seen = new Set<string>();
  const found: string[] = [];
  const walk = (dir: string) => {
    const real = realpathSync(dir);
    if (seen.has(real)) return;
    seen.add(real);
    for (const n of readdirSync(dir).sort()) {
      if (n.startsWith('.') || n.endsWith('~')) continue;
      const path = join(dir, n);
      const ext = extname(n);
      if (isDir(path)) {
        if (!ext) walk(path);
      } else if (!ext || EXTENSIONS.includes(ext)) {
        if (found.length >= MAX_VARS_FILES) throw Object.assign(new Error(`holds more than ${MAX_VARS_FILES} vars files`), { code: 'ETOOMANY' });
        found.push(path);
      }
    }
  };
  walk(top);
  return found;
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
