// The benchmark's results: the targets, a console table, and bench/RESULTS.md.
import type { ProfileSummary } from './profile.js';
import type { UnitCost } from './unit-costs.js';
import { PHASES, type AnsibleRun, type FloorRun, type HotswapRun } from './runs.js';
import { max, median, mib, min, msec, ratio, secs, HAVE_GNU_TIME, type Machine } from './util.js';

export interface StartupRow {
  name: string;
  wallMs: number;
  cpuMs: number;
  maxRssKb: number;
  runs: number;
}

export interface Results {
  machine: Machine;
  runs: Record<number, number>;
  hotswap: Map<number, HotswapRun[]>;
  /** hotswap apply with ssh.client: openssh, alternating with the built-in client's runs */
  openssh: Map<number, HotswapRun[]>;
  ansible: Map<number, AnsibleRun[]>;
  /** the floor (bench/floor.ts) per size, alternating with hotswap */
  floor: Map<number, FloorRun[]>;
  loads: HotswapRun[];
  profiles: HotswapRun[];
  startup: StartupRow[];
  validateProfile: ProfileSummary | null;
  units: UnitCost[];
  ansibleNote: string | null;
  problems: string[];
  totalS: number;
  loadavgEnd: string;
}

interface Target {
  name: string;
  goal: string;
  measured: string;
  pass: boolean | null;
}

const cpuMs = (m: { userS: number; sysS: number }) => (m.userS + m.sysS) * 1000;

function hotswapRow(runs: HotswapRun[]) {
  const wall = runs.map((r) => r.m.wallMs);
  return {
    wall: median(wall),
    min: min(wall),
    max: max(wall),
    cpu: median(runs.map((r) => cpuMs(r.m))),
    rss: median(runs.map((r) => r.m.maxRssKb)),
    hostCpu: median(runs.map((r) => r.hostSideCpuS * 1000)),
    before: median(runs.map((r) => r.beforeRunMs)),
    run: median(runs.map((r) => r.runMs)),
    after: median(runs.map((r) => r.afterRunMs)),
  };
}

function ansibleRow(runs: AnsibleRun[] | undefined) {
  if (!runs?.length) return null;
  const wall = runs.map((r) => r.m.wallMs);
  return { wall: median(wall), min: min(wall), max: max(wall), cpu: median(runs.map((r) => cpuMs(r.m))), hostCpu: median(runs.map((r) => r.hostSideCpuS * 1000)) };
}

function floorRow(runs: FloorRun[] | undefined) {
  if (!runs?.length) return null;
  return { wall: median(runs.map((r) => r.m.wallMs)), cpu: median(runs.map((r) => cpuMs(r.m))), hostCpu: median(runs.map((r) => r.hostSideCpuS * 1000)) };
}

const WALL_TARGETS: Record<number, number> = { 1: 0.6, 10: 1.5, 50: 5 };

/** Per phase: the median host and the slowest host, each the median over the runs. */
function phaseRows(runs: HotswapRun[]) {
  return PHASES.map((p) => {
    const perRun = runs.map((r) => r.perHost.map((h) => h.phases[p]).filter((v): v is number => v !== undefined));
    return { phase: p, median: median(perRun.map(median)), slowest: median(perRun.map(max)) };
  });
}

function loadTotals(r: HotswapRun) {
  const per = r.load!.perHost;
  const errors: Record<string, number> = {};
  for (const h of per) for (const [k, v] of Object.entries(h.errors)) errors[k] = (errors[k] ?? 0) + v;
  return {
    hosts: per.length,
    ok: per.reduce((a, h) => a + h.ok, 0),
    minOk: min(per.map((h) => h.ok)),
    failed: per.reduce((a, h) => a + h.failed, 0),
    hostsFailing: per.filter((h) => h.failed > 0).length,
    resets: per.reduce((a, h) => a + h.keepAliveResets, 0),
    errors,
  };
}

function targets(res: Results): Target[] {
  const t: Target[] = [];
  const limit = (hosts: number, s: number) => {
    const runs = res.hotswap.get(hosts) ?? [];
    const w = median(runs.map((r) => r.m.wallMs));
    t.push({ name: `${hosts} host${hosts > 1 ? 's' : ''}, wall end to end`, goal: `< ${s} s`, measured: secs(w), pass: runs.length ? w < s * 1000 : null });
  };
  for (const [hosts, s] of Object.entries(WALL_TARGETS)) limit(Number(hosts), s);
  for (const hosts of [1, 10]) {
    const a = ansibleRow(res.ansible.get(hosts));
    const h = median((res.hotswap.get(hosts) ?? []).map((r) => r.m.wallMs));
    t.push({ name: `faster than Ansible, ${hosts} host${hosts > 1 ? 's' : ''}`, goal: '>= 10x', measured: a ? ratio(a.wall / h) : 'not measured', pass: a ? a.wall / h >= 10 : null });
  }
  const nc = res.loads.filter((l) => l.load?.mode === 'new connections');
  const failed = nc.reduce((a, l) => a + loadTotals(l).failed, 0);
  const served = nc.reduce((a, l) => a + loadTotals(l).ok, 0);
  t.push({ name: 'failed requests, new connections, every upgrade under load', goal: '0', measured: `${failed} of ${served + failed}`, pass: nc.length ? failed === 0 : null });
  return t;
}

const verdict = (p: boolean | null) => (p === null ? 'not measured' : p ? 'PASS' : 'FAIL');

function table(head: string[], rows: string[][], numeric = true): string {
  return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i && numeric ? '---:' : '---')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function census(p: HotswapRun) {
  const c = p.census;
  if (!c) return null;
  const kinds = new Map<string, number[]>();
  for (const call of c.calls) kinds.set(call.kind, [...(kinds.get(call.kind) ?? []), call.ms]);
  const rows = [...kinds].map(([kind, ms]) => ({ kind, perHost: ms.length / p.hosts, median: median(ms), total: ms.reduce((a, b) => a + b, 0) / p.hosts }));
  rows.sort((a, b) => b.total - a.total);
  return {
    rows,
    roundTripsPerHost: c.calls.filter((x) => !x.behind).length / p.hosts,
    behindPerHost: c.calls.filter((x) => x.behind).length / p.hosts,
    connect: median(c.connects.map((x) => x.ms)),
    nodeBootMs: c.hookLoadedMs,
    firstConnectMs: min(c.connects.map((x) => x.startMs)),
    exitMs: c.exitMs,
    cpuMs: (c.resourceUsage.userCPUTime + c.resourceUsage.systemCPUTime) / 1000,
    maxRssKb: c.resourceUsage.maxRSS,
  };
}

/** Plain sentences read off the numbers: what the wall time is made of. */
function dominates(res: Results): string[] {
  const lines: string[] = ['### What dominates', ''];
  const one = res.hotswap.get(1) ?? [];
  const startupRow = res.startup.find((s) => s.name.includes('validate'));
  const nodeRow = res.startup[0];
  if (one.length) {
    const h = hotswapRow(one);
    lines.push(`- 1 host: ${msec(h.before)} of the ${msec(h.wall)} wall pass before the host is contacted (node start-up, module loading, playbook`);
    lines.push(`  load and schema validation, hashing the build)${nodeRow ? `; \`node -e 0\` alone takes ${msec(nodeRow.wallMs)}` : ''}${startupRow ? `, \`hotswap validate\` ${msec(startupRow.wallMs)}` : ''}.`);
    lines.push(`  The host itself takes ${msec(h.run)}.`);
  }
  const prof1 = res.profiles.find((p) => p.hosts === 1);
  const c = prof1 ? census(prof1) : null;
  if (c) {
    const top = c.rows.slice(0, 3).map((r) => `${r.kind} (${r.perHost.toFixed(r.perHost % 1 ? 1 : 0)}x, ${msec(r.total)})`).join(', ');
    const sum = c.rows.reduce((a, r) => a + r.total, 0);
    lines.push(`- Per host, ${c.roundTripsPerHost.toFixed(0)} SSH requests after the handshake (opening the two shells, each command written to them, the SFTP`);
    lines.push(`  session and upload, the TCP channel of the HTTP check), and ${c.behindPerHost.toFixed(0)} commands written behind the one before them in the same round trip`);
    lines.push(`  (the facts behind the lock, each wait behind its signal). Request time: ${msec(sum)} in all at 1 host (the upload runs beside the facts, its check`);
    lines.push(`  beside the backup, and a command written behind another counts the time it waited); the costliest: ${top}.`);
    lines.push(`  Each is at least one network round trip on a real fleet: at 20 ms RTT, ${c.roundTripsPerHost.toFixed(0)} of them take ${msec(20 * c.roundTripsPerHost)} or more.`);
    const unit = (re: RegExp) => res.units.find((u) => re.test(u.name));
    const conn = unit(/^SSH connection/), cmd = unit(/^one command in the long-lived shell/), facts = unit(/^the facts script/);
    const factsRuns = c.rows.find((r) => r.kind === 'facts script')?.perHost ?? 0;
    const commands = c.rows.filter((r) => !/^(shell session|sftp|direct-tcpip)/.test(r.kind)).reduce((a, r) => a + r.perHost, 0);
    const hostSide = hotswapRow(one).hostCpu;
    if (conn && cmd && facts && Number.isFinite(hostSide) && Number.isFinite(cmd.hostCpuMs)) {
      const share = (ms: number) => `${Math.round((100 * ms) / hostSide)}%`;
      const shellMs = commands * cmd.hostCpuMs;
      // beyond what any command costs (counted with the commands)
      const factsMs = factsRuns * (facts.hostCpuMs - cmd.hostCpuMs);
      lines.push(`- On the host, an upgrade costs ${msec(hostSide)} CPU (sshd and every command; nginx's own start-up not included). Of that, by the unit`);
      lines.push(`  costs below: the SSH connection ${msec(conn.hostCpuMs)} (${share(conn.hostCpuMs)}), ${commands.toFixed(0)} commands in the shell at ${msec(cmd.hostCpuMs)} each before their own work ${msec(shellMs)} (${share(shellMs)}),`);
      lines.push(`  the facts script run ${factsRuns.toFixed(0)} times at ${msec(facts.hostCpuMs - cmd.hostCpuMs)} beyond that ${msec(factsMs)} (${share(factsMs)}).`);
    }
  }
  const ten = res.hotswap.get(10) ?? [];
  if (one.length && ten.length) {
    const a = hotswapRow(one), b = hotswapRow(ten);
    const v = res.startup.find((s) => s.name.includes('validate'));
    lines.push(`- hotswap's own CPU: ${msec(a.cpu)} at 1 host${v ? ` (\`hotswap validate\` alone: ${msec(v.cpuMs)})` : ''}, then about ${msec((b.cpu - a.cpu) / 9)} per further host.`);
  }
  for (const [hosts, runs] of res.hotswap) {
    if (hosts < 10 || !runs.length) continue;
    const h = hotswapRow(runs);
    const cores = res.machine.nproc;
    lines.push(`- ${hosts} hosts: hotswap used ${msec(h.cpu)} CPU and the hosts' side ${msec(h.hostCpu)} (${msec(h.hostCpu / hosts)} per host), all on this machine's ${cores} cores:`);
    lines.push(`  at least ${secs((h.cpu + h.hostCpu) / cores)} of the ${secs(h.wall)} wall, before nginx's own start-up work. On a real fleet every host brings its own CPU.`);
  }
  return lines;
}

function profileLines(p: ProfileSummary | null | undefined, buckets = 8, frames = 10): string[] {
  if (!p) return ['(no CPU profile)'];
  return [
    `CPU sampled: ${msec(p.cpuMs)} (idle, waiting on the hosts: ${msec(p.idleMs)})`,
    '',
    table(['self time by where the code lives', 'ms', 'share'], p.buckets.slice(0, buckets).map((b) => [b.name, msec(b.ms), `${Math.round((100 * b.ms) / p.cpuMs)}%`])),
    '',
    table(['inclusive time: hotswap functions and package entry points', 'ms'], p.frames.slice(0, frames).map((f) => [`\`${f.name}\``, msec(f.ms)])),
  ];
}

export function renderMarkdown(res: Results): string {
  const m = res.machine;
  const ts = targets(res);
  const out: string[] = [];
  out.push('# hotswap benchmark results', '');
  out.push('Written by `npm run bench` (bench/bench.ts); rerun it to measure your own machine. Every run upgrades a fresh lab fleet:');
  out.push(`real nginx hosts (Debian nginx ${m.builds}, 2 workers each, own prefix) behind one private sshd on`);
  out.push('127.0.0.1, reached as a plain user. All the hosts share this one machine with hotswap, so host-side work (sshd, the');
  out.push('scripts hotswap runs on the host, nginx) competes for the same cores: a real fleet has a machine per host.', '');
  out.push('## Machine', '');
  out.push(table(['', ''], [
    ['date', m.date], ['nproc', String(m.nproc)], ['CPU', m.cpuModel], ['memory', `${m.memoryGiB} GiB`],
    ['OS / kernel', `${m.os} / ${m.kernel}`], ['load average at start (1, 5, 15 min)', m.loadavg], ['node', m.node], ['OpenSSH', m.openssh], ['Ansible', m.ansible ?? res.ansibleNote ?? '–'],
    ['runs per size (median reported)', Object.entries(res.runs).map(([h, n]) => `${h} host${h === '1' ? '' : 's'}: ${n}`).join(', ')],
    ['load average at the end', res.loadavgEnd], ['benchmark wall time', `${res.totalS.toFixed(0)} s`],
  ], false));
  out.push('', '## Targets', '');
  out.push(table(['target', 'goal', 'measured', 'result'], ts.map((t) => [t.name, t.goal, t.measured, `**${verdict(t.pass)}**`])));

  const floors = [...res.floor].filter(([, r]) => r.length);
  if (floors.length) {
    out.push('', '## The floor on this machine', '');
    out.push('The least any hot upgrade over SSH can cost here: one process (hotswap\'s own transport, every host at once) that sends');
    out.push('only USR2, WINCH and QUIT, with the waits between them, as one command per host (bench/floor.ts): no backup, upload, config');
    out.push('test, check, lock or journal, and nginx re-execs the build it runs. Fresh lab fleet, alternating with hotswap. Where the');
    out.push('floor is near a wall-time target, no full and checked upgrade can meet that target on this machine.', '');
    out.push(table(['hosts', 'floor wall', 'floor CPU', 'floor host side CPU', 'hotswap wall', 'hotswap / floor', 'wall target'], floors.map(([hosts]) => {
      const f = floorRow(res.floor.get(hosts))!;
      const h = median((res.hotswap.get(hosts) ?? []).map((r) => r.m.wallMs));
      const goal = WALL_TARGETS[hosts];
      return [String(hosts), secs(f.wall), msec(f.cpu), `${msec(f.hostCpu)} (${msec(f.hostCpu / hosts)}/host)`, secs(h), ratio(h / f.wall), goal ? `< ${goal} s` : '–'];
    })));
  }

  out.push('', '## Wall time: hotswap apply vs the Ansible reference playbook', '');
  out.push('Wall time from spawning the command to its exit (medians, min–max in brackets). Ansible and hotswap runs alternate, so the');
  out.push(`ratio compares them on the same machine at the same moment. CPU: the controller process's own user+sys time${HAVE_GNU_TIME ? ' (GNU time)' : ''}`);
  out.push('(Ansible: ansible-playbook with its forks and ssh clients). Host side: the CPU of the lab sshd\'s sessions and of every');
  out.push('command run through them: the work the hosts do for the tool (a cgroup around the lab sshd); nginx\'s own work not included.', '');
  const rows: string[][] = [];
  for (const [hosts, runs] of res.hotswap) {
    if (!runs.length) continue;
    const h = hotswapRow(runs);
    const a = ansibleRow(res.ansible.get(hosts));
    rows.push([String(hosts), `${secs(h.wall)} (${secs(h.min)}–${secs(h.max)})`, msec(h.cpu), mib(h.rss), `${msec(h.hostCpu)} (${msec(h.hostCpu / hosts)}/host)`,
      a ? `${secs(a.wall)} (${secs(a.min)}–${secs(a.max)})` : '–', a ? secs(a.cpu) : '–', a ? `${secs(a.hostCpu)} (${msec(a.hostCpu / hosts)}/host)` : '–', a ? ratio(a.wall / h.wall) : '–']);
  }
  out.push(table(['hosts', 'hotswap wall', 'hotswap CPU', 'hotswap peak RSS', 'hotswap host side CPU', 'Ansible wall', 'Ansible CPU', 'Ansible host side CPU', 'Ansible / hotswap'], rows));
  out.push('', ...dominates(res));
  const clients = opensshRows(res);
  if (clients.length) {
    out.push('', '### ssh.client: openssh vs the built-in client', '');
    out.push('The same apply with `ssh.client: openssh`: the system `ssh`, one ControlMaster per host, a new `ssh` client process and');
    out.push('sshd session per command (the built-in client writes its commands to long-lived shells). Fresh lab fleet each run,');
    out.push('alternating with the built-in runs above; medians.', '');
    out.push(table(['hosts', 'built-in wall', 'openssh wall', 'openssh / built-in', 'built-in CPU', 'openssh CPU', 'built-in host side CPU', 'openssh host side CPU'], clients));
  }

  out.push('', '### Where the wall time goes', '');
  out.push('Before the run: process start to the first host started (node start-up, module loading, playbook load and schema');
  out.push('validation, hashing the new build). Run: first host started to last host done (`--json` event times). After: to exit.', '');
  out.push(table(['hosts', 'before the run', 'run', 'after the run'], [...res.hotswap].filter(([, r]) => r.length).map(([hosts, runs]) => {
    const h = hotswapRow(runs);
    return [String(hosts), msec(h.before), msec(h.run), msec(h.after)];
  })));
  out.push('', 'Per host and phase, from the `--json` events (median host / slowest host; median over the runs). The runs use `--json`, not', '`--report`: a report makes hotswap read every host\'s facts once more at the end.', '');
  const sizes = [...res.hotswap].filter(([, r]) => r.length);
  const pr = sizes.map(([, runs]) => phaseRows(runs));
  out.push(table(['phase', ...sizes.map(([h]) => `${h} host${h > 1 ? 's' : ''}`)], PHASES.map((p, i) => [p, ...pr.map((rs) => (rs[i].median === rs[i].slowest || !Number.isFinite(rs[i].slowest) ? msec(rs[i].median) : `${msec(rs[i].median)} / ${msec(rs[i].slowest)}`))])));

  out.push('', '## Requests under load during the upgrade', '');
  out.push('Load on every host from the benchmark process (closed loop, the given requests in flight per host), started 0.3 s');
  out.push('before `hotswap apply` and stopped 0.3 s after it exits. "New connections" sends `Connection: close`; keep-alive resets');
  out.push('are reused idle connections that the old workers close on their graceful shutdown (a client retries them): counted');
  out.push('apart from failures.', '');
  out.push(table(['hosts', 'connections', 'in flight per host', 'requests served', 'fewest on one host', 'failed', 'keep-alive resets', 'apply wall under load'], res.loads.map((l) => {
    const t = loadTotals(l);
    const errs = Object.entries(t.errors).map(([k, v]) => `${k}: ${v}`).join(', ');
    return [String(t.hosts), l.load!.mode, String(l.load!.concurrency), String(t.ok), String(t.minOk), `${t.failed}${errs ? ` (${errs})` : ''}`, l.load!.mode === 'keep-alive' ? String(t.resets) : '–', secs(l.m.wallMs)];
  })));

  out.push('', '## Start-up', '');
  out.push(`Median of ${res.startup[0]?.runs ?? 0} interleaved runs each.`, '');
  const base = res.startup[0];
  out.push(table(['command', 'wall', 'vs `node -e 0`', 'CPU', 'peak RSS'], res.startup.map((s) => [s.name, msec(s.wallMs), base ? `${ratio(s.wallMs / base.wallMs)} (+${msec(s.wallMs - base.wallMs)})` : '–', msec(s.cpuMs), mib(s.maxRssKb)])));

  if (res.units.length) {
    out.push('', '## What one operation costs a host', '');
    out.push('CPU on the host side (a cgroup around the lab sshd: the session processes and the commands they run) and wall time');
    out.push('per operation, over hotswap\'s own SSH transport (ssh2, TCP_NODELAY). An exec round trip is an sshd session: a');
    out.push('fork, the login shell and the `sh -c` around the command. hotswap writes its commands to one long-lived shell instead: a');
    out.push('command there costs the subshell that runs it and its own `sh -c`. The facts script is timed in that shell too. The upload is', 'hotswap\'s (one SFTP open, the writes sent without waiting, one close) on an SFTP session already open.', '');
    out.push(table(['operation', 'repeated', 'host CPU each', 'wall each (median)'], res.units.map((u) => [u.name, String(u.n), Number.isFinite(u.hostCpuMs) ? `${u.hostCpuMs.toFixed(1)} ms` : '–', `${u.wallMs.toFixed(1)} ms`])));
  }

  out.push('', '## Profile of hotswap itself', '');
  out.push('The CPU profiles sample wall time on the main thread. On loopback a socket write also runs the receiving side in the');
  out.push('kernel and wakes the lab\'s sshd, which often takes the CPU right then: at 10 hosts most of `native writeBuffer` (under');
  out.push('ssh2\'s socket handler, `client.js:771`) is the hosts\' work landing on hotswap\'s samples. The CPU column of the wall-time');
  out.push('table (rusage) is hotswap\'s own. These runs start from tsc\'s modules, not the bundles the timed runs use (the census wraps');
  out.push('ssh2 as loaded from node_modules), so their start-up is slower than the timed runs\'.', '');
  for (const p of res.profiles) {
    const c = census(p);
    out.push(`### ${p.hosts} host${p.hosts > 1 ? 's' : ''} (one run with \`--cpu-prof\` and the round-trip census; wall ${secs(p.m.wallMs)})`, '');
    if (c) {
      out.push(`Node start-up before hotswap's first module: ${msec(c.nodeBootMs)}. First SSH connection opened at ${msec(c.firstConnectMs)}, process exit at ${msec(c.exitMs)} (ms after the process started). SSH handshake (median): ${msec(c.connect)}. Round trips per host after the handshake: ${c.roundTripsPerHost.toFixed(0)}.`, '');
      out.push(table(['round trip', 'per host', 'median', 'total per host'], c.rows.map((r) => [r.kind, r.perHost.toFixed(r.perHost % 1 ? 1 : 0), msec(r.median), msec(r.total)])));
      out.push('');
    }
    out.push(...profileLines(p.profile), '');
  }
  out.push('### `hotswap validate` (10 hosts)', '');
  out.push(...profileLines(res.validateProfile));

  if (res.problems.length) out.push('', '## Problems', '', ...res.problems.map((p) => `- ${p.replace(/\n/g, '\n  ')}`));
  return out.join('\n') + '\n';
}

export function renderConsole(res: Results): { text: string; targetsMissed: boolean } {
  const ts = targets(res);
  const lines: string[] = ['', `hotswap benchmark — ${res.machine.date}, nproc ${res.machine.nproc}, ${res.machine.memoryGiB} GiB, node ${res.machine.node}`, ''];
  const pad = (cells: string[], widths: number[]) => cells.map((c, i) => (i ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  const head = ['hosts', 'hotswap', 'CPU', 'peak RSS', 'host side CPU', 'Ansible', 'ratio'];
  const rows = [...res.hotswap].filter(([, r]) => r.length).map(([hosts, runs]) => {
    const h = hotswapRow(runs);
    const a = ansibleRow(res.ansible.get(hosts));
    return [String(hosts), secs(h.wall), msec(h.cpu), mib(h.rss), msec(h.hostCpu), a ? secs(a.wall) : '–', a ? ratio(a.wall / h.wall) : '–'];
  });
  const w = head.map((_, i) => Math.max(head[i].length, ...rows.map((r) => r[i].length)));
  lines.push(pad(head, w), ...rows.map((r) => pad(r, w)), '');
  const sizes = [...res.hotswap].filter(([, r]) => r.length);
  const pr = sizes.map(([, runs]) => phaseRows(runs));
  const ph = ['phase (median host)', ...sizes.map(([h]) => `${h}`)];
  const prow = PHASES.map((p, i) => [p, ...pr.map((rs) => msec(rs[i].median))]);
  const pw = ph.map((_, i) => Math.max(ph[i].length, ...prow.map((r) => r[i].length)));
  lines.push(pad(ph, pw), ...prow.map((r) => pad(r, pw)), '');
  for (const l of res.loads) {
    const t = loadTotals(l);
    lines.push(`load ${String(t.hosts).padStart(2)} host(s), ${l.load!.mode.padEnd(15)}: ${t.ok} served, ${t.failed} failed${l.load!.mode === 'keep-alive' ? `, ${t.resets} keep-alive resets` : ''}`);
  }
  for (const r of opensshRows(res)) lines.push(`ssh.client openssh ${r[0].padStart(2)} host(s): ${r[2]} (built-in ${r[1]}, ${r[3]})`);
  for (const [hosts, runs] of res.floor) {
    const f = floorRow(runs);
    if (f) lines.push(`floor ${String(hosts).padStart(2)} host(s) (signals and waits only): ${secs(f.wall)}`);
  }
  lines.push('');
  for (const s of res.startup) lines.push(`${s.name}: ${msec(s.wallMs)}`);
  lines.push('');
  for (const t of ts) lines.push(`${verdict(t.pass).padEnd(12)} ${t.name}: ${t.measured} (goal ${t.goal})`);
  if (res.ansibleNote) lines.push('', res.ansibleNote);
  if (res.problems.length) lines.push('', `${res.problems.length} problem(s):`, ...res.problems.map((p) => `  - ${p}`));
  lines.push('', `benchmark took ${res.totalS.toFixed(0)} s`, '');
  return { text: lines.join('\n'), targetsMissed: ts.some((t) => t.pass === false) };
}

/** One row per size measured with both clients: hosts, walls, their ratio, CPUs, host side CPUs. */
function opensshRows(res: Results): string[][] {
  return [...res.openssh].filter(([hosts, r]) => r.length && res.hotswap.get(hosts)?.length).map(([hosts, runs]) => {
    const b = hotswapRow(res.hotswap.get(hosts)!);
    const o = hotswapRow(runs);
    return [String(hosts), secs(b.wall), secs(o.wall), ratio(o.wall / b.wall), msec(b.cpu), msec(o.cpu), msec(b.hostCpu), msec(o.hostCpu)];
  });
}
