import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { expandGlob } from './glob.js';
import { parseSshConfig, SshConfigError, type ConfigItem } from './parse.js';
import { expandTilde } from './tokens.js';

/** A config with every Include read in place (whether or not its block will apply). */
export type LoadedItem = Exclude<ConfigItem, { kind: 'include' }> | { kind: 'include'; file: string; line: number; files: LoadedFile[] };
export type LoadedFile = { file: string; items: LoadedItem[] };

export interface ConfigSource {
  file: string;
  /** where relative Include paths start: ~/.ssh for a user config, /etc/ssh for the system one */
  includeBase: string;
  /** a missing file is an error (an explicit ssh.config_file), else it is just empty */
  required: boolean;
}

export interface LoadedConfig {
  files: LoadedFile[];
  /** what is read but not applied (Match blocks), one line each with file:line */
  warnings: string[];
}

const MAX_DEPTH = 16; // OpenSSH's READCONF_MAX_DEPTH

// Why: which Include'd lines apply depends on the host, but a broken file must
// fail the run before any host is touched, so every file is read up front.
export function loadSshConfig(sources: readonly ConfigSource[], home = homedir()): LoadedConfig {
  const warnings: string[] = [];
  const read = (file: string, includeBase: string, required: boolean, depth: number, from?: { file: string; line: number }): LoadedFile | null => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (!required && code === 'ENOENT') return null;
      const why = `cannot read ssh config ${file}: ${code ?? (e as Error).message}`;
      if (from) throw new SshConfigError(from.file, from.line, why);
      throw new Error(why);
    }
    const items: LoadedItem[] = [];
    for (const item of parseSshConfig(text, file)) {
      if (item.kind === 'match') {
        const all = item.criteria.length === 1 && item.criteria[0]!.toLowerCase() === 'all';
        if (!all) warnings.push(`${file}:${item.line}: Match blocks are not supported by hotswap; the settings under "Match ${item.criteria.join(' ')}" are ignored`);
        items.push(item);
      } else if (item.kind === 'include') {
        if (depth >= MAX_DEPTH) throw new SshConfigError(file, item.line, `Include nested more than ${MAX_DEPTH} deep`);
        const files: LoadedFile[] = [];
        for (const p of item.paths) {
          const path = expandTilde(p, home);
          const abs = isAbsolute(path) ? path : join(includeBase, path);
          for (const f of expandGlob(abs)) {
            const loaded = read(f, includeBase, false, depth + 1, item);
            if (loaded) files.push(loaded);
          }
        }
        items.push({ kind: 'include', file, line: item.line, files });
      } else {
        items.push(item);
      }
    }
    return { file, items };
  };
  const files: LoadedFile[] = [];
  for (const s of sources) {
    const f = read(s.file, s.includeBase, s.required, 0);
    if (f) files.push(f);
  }
  return { files, warnings };
}

/** The files `ssh` reads: the given one (like `ssh -F`), else ~/.ssh/config then /etc/ssh/ssh_config. */
export function defaultConfigSources(configFile: string | undefined, home = homedir()): ConfigSource[] {
  const userBase = join(home, '.ssh');
  if (configFile) return [{ file: expandTilde(configFile, home), includeBase: userBase, required: true }];
  return [
    { file: join(userBase, 'config'), includeBase: userBase, required: false },
    { file: '/etc/ssh/ssh_config', includeBase: '/etc/ssh', required: false },
  ];
}
