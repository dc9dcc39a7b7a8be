import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { loadPlaybook } from '../../src/playbook/load.js';
import { formatProblem } from '../../src/playbook/problem.js';
import { PlaybookError } from '../../src/errors.js';

export const VALID = `version: 1
name: test
hosts:
  - edge-1
nginx:
  prefix: /usr/local/nginx
steps:
  - backup: { keep: 3 }
  - copy-binary: { src: ./nginx }
  - signal: USR2
  - wait-for-workers: { until: new-master-ready, timeout: 10s }
  - signal: WINCH
  - wait-for-workers: { until: old-workers-exited, timeout: 5m }
  - verify: { running_binary: new }
  - signal: QUIT
  - wait-for-workers: { until: old-master-exited, timeout: 30s }
`;

export function writeTemp(text: string | Buffer, name = 'playbook.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-test-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The problems of a playbook text as `LINE:COL: message`, or [] when valid. */
export function problemsOf(text: string, files: Record<string, string> = {}): string[] {
  const file = writeTemp(text);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(file, '..', name), content);
  try {
    loadPlaybook(file);
    return [];
  } catch (err) {
    if (!(err instanceof PlaybookError)) throw err;
    // problems in the playbook itself as LINE:COL; in another file (an inventory) as NAME:LINE:COL
    return err.problems.map((p) => (p.file === file ? formatProblem({ ...p, file: '' }).slice(1) : formatProblem({ ...p, file: basename(p.file) })));
  }
}
