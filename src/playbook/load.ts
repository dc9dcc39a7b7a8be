// read -> YAML with positions -> schema -> rules -> hosts resolved. Every
// problem in the file is collected and thrown at once, in source order.
import { dirname, resolve } from 'node:path';
import type { ErrorObject } from 'ajv';
import { PlaybookError, type Problem } from './problem.js';
import { readTextFile } from './source.js';
import { parseYaml, type Located } from './yaml.js';
import type { Playbook } from './schema.js';
import { schemaProblems } from './schema-errors.js';
import { validate as validatePlaybook } from './schema-validator.js';
import { checkStepOrder } from './step-order.js';
import { resolveHosts } from './hosts.js';
import { durationProblem, percentProblem } from './host-rules.js';
import { interpolate, resolveVars } from './interpolate.js';
import type { LoadedPlaybook } from './resolved.js';

// The schema's validator, generated at build time from schemas/playbook.schema.json
// (ajv standalone code): no ajv and no schema compilation at start-up.
function validate(data: unknown): ErrorObject[] {
  const v = validatePlaybook as ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
  v(data);
  return v.errors ?? [];
}

export function loadPlaybook(file: string): LoadedPlaybook {
  const src = parseYaml(file, readTextFile(file));
  if (!src.data || typeof src.data !== 'object' || Array.isArray(src.data)) {
    throw new PlaybookError([src.problem([], 'a playbook is a YAML mapping with version, name, hosts, nginx and steps')]);
  }
  const errors = validate(src.data);
  if (errors.length) throw new PlaybookError(schemaProblems(errors as never, src));
  const playbook = src.data as Playbook;
  const problems: Problem[] = [];
  for (const o of checkStepOrder(playbook.steps)) problems.push(src.problem(['steps', o.step, o.kind], o.message, 'key'));
  const globals = globalVars(playbook, src, problems);
  checkGlobals(playbook, globals, src, problems);
  const { hosts, groups } = resolveHosts(playbook, src, globals, problems);
  if (problems.length) throw new PlaybookError(problems);
  return { file, dir: dirname(resolve(file)), playbook, hosts, groups };
}

function globalVars(playbook: Playbook, src: Located, problems: Problem[]): Record<string, string> {
  return resolveVars(playbook.vars ?? {}, (name, message) => problems.push(src.problem(['vars', name], message)));
}

// Settings that are the same for every host: interpolated with the playbook's vars only.
function checkGlobals(playbook: Playbook, vars: Record<string, string>, src: Located, problems: Problem[]) {
  const push = (path: (string | number)[], msg: string | undefined) => msg && problems.push(src.problem(path, msg));
  const onIssue = (i: { path: readonly (string | number)[]; message: string }) => problems.push(src.problem(i.path, i.message));
  const strategy = interpolate(playbook.strategy ?? {}, vars, onIssue, ['strategy']);
  const ssh = interpolate(playbook.ssh ?? {}, vars, onIssue, ['ssh']);
  if (ssh.connect_timeout) push(['ssh', 'connect_timeout'], durationProblem(ssh.connect_timeout));
  if (strategy.pause && strategy.pause !== 'confirm') push(['strategy', 'pause'], durationProblem(strategy.pause));
  const serial = strategy.serial;
  if (Array.isArray(serial)) serial.forEach((s, i) => push(['strategy', 'serial', i], percentProblem(s)));
  else if (serial !== undefined) push(['strategy', 'serial'], percentProblem(serial));
  Object.assign(playbook, { strategy: playbook.strategy && strategy, ssh: playbook.ssh && ssh });
}
