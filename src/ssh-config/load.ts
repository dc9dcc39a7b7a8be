import { readFileSync, statSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { expandGlob } from './glob.js';
import { parseSshConfig, SshConfigError, type ConfigItem } from './parse.js';
import { defaultParseEnv, type ParseEnv } from './parse-env.js';
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
  /** a user's file (`~` allowed in Include); default true */
  user?: boolean;
  /** refuse it when others can write it, as ssh does for ~/.ssh/config and included files */
  checkPerm?: boolean;
}

export interface LoadedConfig {
  files: LoadedFile[];
}

const MAX_DEPTH = 16; // OpenSSH's READCONF_MAX_DEPTH
// Not limits of OpenSSH, which would hang too: a config that includes itself
// through a glob reads (files per glob)^16 files, and /dev/zero never ends.
const MAX_FILES = 1000;
const MAX_BYTES = 4 * 1024 * 1024;

// Why: only a regular file of sane size is read: a FIFO would block forever, /dev/zero never ends.
function readConfigText(file: string): string {
  const st = statSync(file);
  // `ssh -F /dev/null`, the usual way to say "no config", reads as empty
  if (realpathSync(file) === '/dev/null') return '';
  if (st.isDirectory()) throw new Error('is a directory');
  if (!st.isFile()) throw new Error('is not a regular file');
  if (st.size > MAX_BYTES) throw new Error(`is ${(st.size / 1048576).toFixed(1)} MiB; the limit is ${MAX_BYTES / 1048576} MiB`);
  return readFileSync(file, 'utf8');
}

// Why: which Include'd lines apply depends on the host, but a broken file must
// fail the run before any host is touched, so every file is read up front.
export function loadSshConfig(sources: readonly ConfigSource[], home = homedir(), penv: ParseEnv = defaultParseEnv()): LoadedConfig {
  const budget = { files: 0 };
  const read = (file: string, src: ConfigSource, required: boolean, depth: number, from?: { file: string; line: number }): LoadedFile | null => {
    const includeBase = src.includeBase;
    let text: string;
    try {
      if (++budget.files > MAX_FILES) throw new Error(`more than ${MAX_FILES} files in all through Include; hotswap reads at most that many`);
      text = readConfigText(file);
      if (src.checkPerm || from) checkPerm(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (!required && code === 'ENOENT') return null;
      const why = `cannot read ssh config ${file}: ${code ?? (e as Error).message}`;
      if (from) throw new SshConfigError(from.file, from.line, why);
      throw new Error(why);
    }
    const items: LoadedItem[] = [];
    for (const item of parseSshConfig(text, file, penv)) {
      if (item.kind === 'include') {
        if (depth >= MAX_DEPTH) throw new SshConfigError(file, item.line, `Include nested more than ${MAX_DEPTH} deep`);
        const files: LoadedFile[] = [];
        for (const p of item.paths) {
          if (p.startsWith('~') && src.user === false) throw new SshConfigError(file, item.line, `bad include path ${p}`);
          const path = expandTilde(p, home);
          const abs = isAbsolute(path) ? path : join(includeBase, path);
          for (const f of expandGlob(abs, MAX_FILES + 1 - budget.files)) {
            const loaded = read(f, src, false, depth + 1, item);
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
    const f = read(s.file, s, s.required, 0);
    if (f) files.push(f);
  }
  return { files };
}

/** The files `ssh` reads: the given one (like `ssh -F`), else ~/.ssh/config then /etc/ssh/ssh_config. */
export function defaultConfigSources(configFile: string | undefined, home = homedir()): ConfigSource[] {
  const userBase = join(home, '.ssh');
  if (configFile) return [{ file: expandTilde(configFile, home), includeBase: userBase, required: true }];
  return [
    { file: join(userBase, 'config'), includeBase: userBase, required: false, checkPerm: true },
    { file: '/etc/ssh/ssh_config', includeBase: '/etc/ssh', required: false, user: false },
  ];
}

// Why: ssh will not read a config others could have written (readconf.c SSHCONF_CHECKPERM).
function checkPerm(file: string): void {
  const st = statSync(file);
  const uid = process.getuid?.() ?? 0;
  if ((st.uid !== 0 && st.uid !== uid) || (st.mode & 0o022) !== 0) throw new Error(`Bad owner or permissions on ${file}`);
}
