// After the old master exits, the new master carries the traffic alone. A unit
// manager that did not adopt it (systemd's Type=forking without PIDFile= stops
// it some 70 ms later) or a build that crashes under the load leaves nothing
// serving while every check so far passed. So the new master is watched for a
// settle period: still the master the pid file names, alive, with workers,
// and answering the verify steps' HTTP checks at the end; under systemd, the
// unit's MainPID must be the new master first. Only then is the host `changed`.
import type { WaitStep } from '../playbook/schema.js';
import { parseDuration } from '../playbook/duration.js';
import { DEFAULT_SETTLE } from '../playbook/vocabulary.js';
import { short, type HostRun } from '../run/host-run.js';
import { StepFailure } from '../errors.js';
import { pause } from '../run/abort.js';
import { fetchOnHost, httpMismatch } from './http-check.js';
import { checkMaster } from './master-check.js';
import { awaitMainPid } from '../run/systemd-probe.js';

const PERIOD_MS = 250;

export function settleOf(spec: WaitStep): string {
  return spec.settle ?? DEFAULT_SETTLE;
}

export function settleMs(spec: WaitStep): number {
  return parseDuration(settleOf(spec)) ?? 1000;
}

/** Watches the new master; '' when there is nothing to watch, a summary when it held, a StepFailure when it did not. */
export async function watchNewMaster(run: HostRun, spec: WaitStep): Promise<string> {
  const adopted = await systemdAdopted(run);
  const ms = settleMs(spec);
  if (ms <= 0) return adopted;
  const abort = run.abort;
  const until = Date.now() + ms;
  let rounds = 0;
  for (;;) {
    const why = await masterHolds(run);
    rounds++;
    if (why) throw new StepFailure(`the new master did not hold after the old master exited: ${why} (watched ${rounds} time(s) within the ${settleOf(spec)} settle period)`);
    // an interrupt ends the watch (the upgrade itself is complete), not the host
    if (Date.now() >= until || abort?.aborted) break;
    await pause(Math.min(PERIOD_MS, until - Date.now()), abort);
  }
  if (abort?.aborted) return `new master ${run.state.newPid ?? ''} held until the interrupt cut the ${settleOf(spec)} watch short`.replace('  ', ' ');
  const http = run.host.steps.flatMap((s) => s.verify?.http ?? []);
  for (const check of http) {
    try {
      const why = httpMismatch(check, await fetchOnHost(run.t, check.url, 5000));
      if (why) throw new StepFailure(`the new master did not hold after the old master exited: GET ${check.url}: ${why}`);
    } catch (err) {
      if (err instanceof StepFailure) throw err;
      throw new StepFailure(`the new master did not hold after the old master exited: GET ${check.url}: ${(err as Error).message}`);
    }
  }
  return `new master ${run.state.newPid ?? ''} held for ${settleOf(spec)}${http.length ? ` and answered ${http.length} HTTP check(s)` : ''}${adopted ? `; ${adopted}` : ''}`.replace('  ', ' ');
}

// systemd re-reads PIDFile when the old master exits and adopts the new one
// (≤0.3 s seen); a unit that lost it stops, and its ExecStop kills the new
// master some 70 ms later. Checked first, at once: a `changed` host must be
// one systemd still runs. '' when no systemd service runs nginx.
async function systemdAdopted(run: HostRun): Promise<string> {
  const ref = run.state.systemd;
  const newPid = run.state.newPid;
  if (!ref) return '';
  if (newPid === undefined) throw new StepFailure(`systemd unit ${ref.unit}: the new master's pid is not known, so whether systemd tracks it cannot be checked`);
  let r: Awaited<ReturnType<typeof awaitMainPid>>;
  try {
    r = await awaitMainPid(run.t, ref, newPid, run.state.oldPid);
  } catch (err) {
    throw new StepFailure(`after the old master exited: ${(err as Error).message}`);
  }
  if (r.check.state !== 'ok') throw new StepFailure(`the new master did not hold after the old master exited: ${r.check.reason}`);
  return `systemd unit ${ref.unit} tracks it (MainPID ${newPid}, active, ${r.ms}ms after the old master exited)`;
}

async function masterHolds(run: HostRun): Promise<string> {
  const { state } = run;
  const pidFile = run.host.nginx.pid_file;
  const m = await checkMaster(run.t, pidFile, false);
  if (!m.pid) return `${pidFile} names no process`;
  if (state.newPid !== undefined && m.pid !== state.newPid) return `${pidFile} names pid ${m.pid}, not the new master ${state.newPid}`;
  if (!m.live) return `the new master ${m.pid} has exited`;
  if (!m.isMaster) return `pid ${m.pid} is not an nginx master`;
  if (state.newSha && m.sha256 !== state.newSha) return `master ${m.pid} runs sha256 ${short(m.sha256)}, not the new build ${short(state.newSha)}`;
  if (!m.workers) return `master ${m.pid} has no workers`;
  return '';
}
