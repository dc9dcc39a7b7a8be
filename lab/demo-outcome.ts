// What the demo says about each host, from hotswap's --report and from what
// really runs there (/proc/PID/exe): pure, so it is tested on its own.

/** One host of `apply --report`'s `hosts` (only what the demo reads). */
export interface ReportedHost {
  host: string;
  result?: string;
  message?: string;
}

export interface HostOutcome {
  upgraded: boolean;
  /** one plain line, e.g. "lab-1: upgraded, now runs 0a1b2c3d4e5f (the new build)" */
  line: string;
}

const MAX_REASON = 400;

// Why: the report's messages carry text read on the host (nginx -t output, lock
// owners); on the operator's terminal it must stay one line of inert characters.
/** Control characters (C0, DEL, C1, line/paragraph separators) as \xNN / \uNNNN, bounded in length. */
export function plain(text: string, max = MAX_REASON): string {
  const escaped = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    return code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`;
  });
  return escaped.length > max ? `${escaped.slice(0, max)}... (${escaped.length - max} more characters)` : escaped;
}

/**
 * `running`: the sha256 of the host's live master's binary, or null when no master runs.
 * `report`: the host's entry in the report, or undefined with `noReport` saying why there is none.
 * Upgraded means both: hotswap says "changed" and the master really runs the new build.
 */
export function hostOutcome(
  name: string,
  report: ReportedHost | undefined,
  running: string | null,
  builds: { old: string; new: string },
  noReport = 'hotswap reported nothing for it',
): HostOutcome {
  const runs = running === null
    ? 'no nginx master runs there'
    : `it runs ${running.slice(0, 12)} (${running === builds.new ? 'the new build' : running === builds.old ? 'the old build' : 'neither lab build'})`;
  if (report?.result === 'changed' && running === builds.new) {
    return { upgraded: true, line: `${name}: upgraded, now runs ${running.slice(0, 12)} (the new build)` };
  }
  let why: string;
  if (!report) why = noReport;
  else if (report.result === 'changed') why = 'hotswap reported it changed, but the new build is not what runs';
  else why = `${report.result ?? 'no result'}${report.message ? `: ${report.message}` : ''}`;
  return { upgraded: false, line: `${name}: NOT upgraded: ${plain(why)}; ${runs}` };
}
