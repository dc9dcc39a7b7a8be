// verify: prove which build the master really runs (sha256 of
// /proc/<master>/exe, not the file on disk) and that it serves.
import type { VerifyStep } from '../playbook/schema.js';
import { parseDuration } from '../playbook/duration.js';
import type { RunningBinary } from '../playbook/vocabulary.js';
import { short, type HostRun } from '../run/host-run.js';
import { StepFailure } from '../errors.js';
import { fetchOnHost, httpMismatch } from './http-check.js';
import { checkMaster } from './master-check.js';
import { pause } from '../run/abort.js';
import { wait, type StepGen } from '../run/action.js';

export function* verify(run: HostRun, spec: VerifyStep): StepGen {
  const retries = spec.retries ?? 0;
  const intervalMs = parseDuration(spec.interval ?? '1s') ?? 1000;
  const which = spec.running_binary ?? 'new';
  const wants = [
    which === 'any' ? undefined : `the master runs the ${which} build (sha256 ${short(which === 'new' ? run.state.newSha : run.state.oldSha)})`,
    spec.version ? `nginx -v says ${JSON.stringify(spec.version)}` : undefined,
    ...(spec.http ?? []).map((h) => `GET ${h.url} on the host answers ${h.status ?? 200}${h.contains ? ` containing ${JSON.stringify(h.contains)}` : ''}`),
  ].filter(Boolean);
  return (yield wait<string>({
    description: `check that ${wants.join(', and ')}${retries ? ` (${retries} retries, ${spec.interval ?? '1s'} apart)` : ''}`,
    command: { script: 'src/remote/master-check.sh, then HTTP over direct-tcpip', args: [run.host.nginx.pid_file, ...(spec.http ?? []).map((h) => h.url)] },
    run: async (_t, stop) => {
      let last = '';
      for (let attempt = 0; attempt <= retries; attempt++) {
        // given up on (an interrupt, the step's timeout: the executor has answered already): nothing more is asked of the host
        if (attempt) await pause(intervalMs, stop);
        if (stop.aborted) break;
        last = await once(run, spec, which);
        if (!last) return `${wants.length} check${wants.length === 1 ? '' : 's'} passed`;
      }
      throw new StepFailure(last);
    },
    planned: 'planned',
  })) as string;
}

/** One round of checks: '' when all pass, else why not. */
async function once(run: HostRun, spec: VerifyStep, which: RunningBinary): Promise<string> {
  const m = await checkMaster(run.t, run.host.nginx.pid_file, !!spec.version);
  if (!m.pid || !m.live || !m.isMaster) return `no live nginx master in ${run.host.nginx.pid_file}`;
  if (which !== 'any') {
    const want = which === 'new' ? run.state.newSha : run.state.oldSha;
    if (m.sha256 !== want) return `master ${m.pid} runs sha256 ${short(m.sha256)}, not the ${which} build ${short(want)}`;
  }
  if (!m.workers) return `master ${m.pid} has no workers`;
  if (spec.version && !m.version?.includes(spec.version)) return `nginx -v says ${JSON.stringify(m.version ?? '')}, not ${JSON.stringify(spec.version)}`;
  for (const check of spec.http ?? []) {
    try {
      const r = await fetchOnHost(run.t, check.url, 5000);
      const why = httpMismatch(check, r);
      if (why) return `GET ${check.url}: ${why}`;
    } catch (err) {
      return `GET ${check.url}: ${(err as Error).message}`;
    }
  }
  return '';
}
