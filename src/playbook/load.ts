// read -> YAML with positions -> schema -> rules -> hosts resolved. Every
// problem in the file is collected and thrown at once, in source order: the
// rules run on every part of the playbook the schema found well-formed, so a
// typo in one place does not hide a wrong step order in another.
import { basename, dirname, resolve } from 'node:path';
import type { ErrorObject } from 'ajv';
import type { Problem } from './problem.js';
import { PlaybookError } from '../errors.js';
import { readTextFile } from './source.js';
import { parseYaml, type Located, type Path } from './yaml.js';
import type { Playbook } from './schema.js';
import { pruneUnions, schemaProblems } from './schema-errors.js';
import { validate as validatePlaybook } from './schema-validator.js';
import { checkStepOrder } from './step-order.js';
import { resolveHosts } from './hosts.js';
import { durationProblem, percentProblem } from './host-rules.js';
import { interpolate, newBudget, resolveVars, scope, type Budget } from './interpolate.js';
import { brokenPaths, numberProblems, orderUsable, type Broken } from './broken.js';
import type { LoadedPlaybook } from './resolved.js';

// The schema's errors, from ajv (the bundle has ajv's standalone code for the
// same schema instead: see schema-validator.ts).
function validate(data: unknown): ErrorObject[] {
  const v = validatePlaybook as ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
  v(data);
  return v.errors ?? [];
}

export const MAX_STEPS = 100;

export function loadPlaybook(file: string): LoadedPlaybook {
  const src = parseYaml(file, readTextFile(file));
  if (!src.data || typeof src.data !== 'object' || Array.isArray(src.data)) {
    throw new PlaybookError([src.problem([], 'a playbook is a YAML mapping with version, hosts, nginx and steps')]);
  }
  const problems: Problem[] = [];
  // A real upgrade has about ten steps; tens of thousands would only make the
  // schema check crawl (every error of every step) for no playbook anyone runs.
  const data = src.data as { steps?: unknown };
  if (Array.isArray(data.steps) && data.steps.length > MAX_STEPS) {
    problems.push(src.problem(['steps'], `steps: at most ${MAX_STEPS} steps, got ${data.steps.length}; the ones after step ${MAX_STEPS} are not checked`, 'key'));
    data.steps = data.steps.slice(0, MAX_STEPS);
  }
  const numbers = numberProblems(src.data);
  problems.push(...numbers.map((n) => src.problem(n.path, n.message)));
  const numberAt = new Set(numbers.map((n) => n.pointer));
  const errors = validate(src.data).filter((e) => !numberAt.has(e.instancePath));
  problems.push(...schemaProblems(errors as never, src));
  const broken = brokenPaths(pruneUnions(errors as never), numbers.map((n) => n.path));
  const playbook = src.data as Playbook;
  if (playbook.name === undefined) playbook.name = basename(file);
  if (Array.isArray(playbook.steps) && orderUsable(playbook.steps.length, broken)) {
    for (const o of checkStepOrder(playbook.steps)) problems.push(src.problem(['steps', o.step, o.kind], o.message, 'key'));
  }
  const budget = newBudget();
  // past a thousand problems, a per-host check would only repeat them
  if (!broken(['vars']) && problems.length < 1000) {
    const globals = globalVars(playbook, src, problems, budget);
    checkGlobals(playbook, globals, src, problems, broken, budget);
    if (!['nginx', 'inventory'].some((k) => broken([k])) && !broken.exactly(['hosts'])) {
      const { hosts, groups } = resolveHosts(playbook, src, globals, problems, { broken, budget });
      if (!problems.length) return { file, dir: dirname(resolve(file)), playbook, hosts, groups };
    }
  }
  // at least the schema or a rule found something (or a part the rules need was broken)
  throw new PlaybookError(problems);
}

function globalVars(playbook: Playbook, src: Located, problems: Problem[], budget: Budget): Record<string, string> {
  return resolveVars(playbook.vars ?? {}, (name, message) => problems.push(src.problem(['vars', name], message)), budget);
}

// Settings that are the same for every host: interpolated with the playbook's vars only.
function checkGlobals(playbook: Playbook, vars: Record<string, string>, src: Located, problems: Problem[], broken: Broken, budget: Budget) {
  const push = (path: Path, check: () => string | undefined) => {
    const msg = broken(path) ? undefined : check();
    if (msg) problems.push(src.problem(path, msg));
  };
  const onIssue = (i: { path: Path; message: string }) => problems.push(src.problem(i.path, i.message));
  const strategy = broken.exactly(['strategy']) ? {} : interpolate(playbook.strategy ?? {}, scope(vars), onIssue, ['strategy'], budget);
  const ssh = broken.exactly(['ssh']) ? {} : interpolate(playbook.ssh ?? {}, scope(vars), onIssue, ['ssh'], budget);
  if (typeof ssh.connect_timeout === 'string') push(['ssh', 'connect_timeout'], () => durationProblem(ssh.connect_timeout!));
  if (typeof strategy.pause === 'string' && strategy.pause !== 'confirm') push(['strategy', 'pause'], () => durationProblem(strategy.pause!));
  const serial = strategy.serial;
  if (Array.isArray(serial)) serial.forEach((s, i) => push(['strategy', 'serial', i], () => percentProblem(s)));
  else if (serial !== undefined) push(['strategy', 'serial'], () => percentProblem(serial));
  Object.assign(playbook, { strategy: playbook.strategy && strategy, ssh: playbook.ssh && ssh });
}
