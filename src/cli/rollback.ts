// hotswap rollback: bring each host back to the build it ran before the last
// upgrade, from whatever state it is in, under the host's lock.
import { randomBytes } from 'node:crypto';
import type { CommandArgs } from './command-args.js';
import { Declined, Exit, worstExit, type ExitCode } from '../errors.js';
import { loadPlaybook } from '../playbook/load.js';
import { selectedHosts } from './select.js';
import { confirmer } from './confirm.js';
import { connector } from '../run/connect.js';
import { pool } from '../run/pool.js';
import { Events } from '../run/events.js';
import { recoverHost, type Recovery } from '../run/recover.js';
import { resolveLayout } from '../run/host-layout.js';
import { LockHeld, ownerFor, releaseLock, takeLock } from '../run/lock.js';
import type { RunContext } from '../run/host-run.js';
import { recapLines } from '../report/recap.js';
import { oneLine } from '../report/terminal-text.js';

// Why: here a host rolled back is the command's success (in apply it is a failure: see EXIT_OF in src/run/fleet.ts).
const EXIT: Record<Recovery['result'] | 'unreachable', ExitCode> = { ok: Exit.ok, rolled_back: Exit.ok, failed: Exit.failed, refused: Exit.refused, unreachable: Exit.unreachable, rollback_failed: Exit.rollbackFailed };

export async function run(args: CommandArgs): Promise<ExitCode> {
  const loaded = loadPlaybook(args.playbook);
  const hosts = selectedHosts(loaded, args.values.limit as string | undefined);
  process.stderr.write(`${loaded.playbook.name}: roll back ${hosts.length} host${hosts.length === 1 ? '' : 's'} to the build recorded before their last upgrade: ${hosts.map((h) => h.name).join(', ')}\n`);
  if (!(await confirmer(!!args.values.yes)('Roll these hosts back?'))) throw new Declined('the operator answered no: no host was contacted, nothing was changed');
  const connect = connector(loaded.playbook);
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const ctx: RunContext = { dryRun: false, command: 'rollback', playbookFile: args.playbook, events: new Events(), runId, stamp: '', binaries: new Map() };
  // said before it is done (e.g. a cold start of a systemd unit whose nginx is down)
  ctx.events.on((e) => e.type === 'warning' && process.stderr.write(`${oneLine(`[${e.host}] warning: ${e.message}`)}\n`));
  const started = Date.now();
  const rows = await pool(hosts, loaded.playbook.strategy?.concurrency ?? 20, async (h) => {
    const t0 = Date.now();
    const row = (r: Recovery | { result: 'unreachable'; message: string }) => {
      process.stderr.write(`${oneLine(`[${h.name}] ${r.result}: ${r.message}`)}\n`);
      return { host: h.name, ms: Date.now() - t0, ...r };
    };
    let t;
    try {
      t = await connect(h);
    } catch (err) {
      return row({ result: 'unreachable', message: (err as Error).message });
    }
    let locked = false;
    try {
      // a playbook naming only the binary: its other paths are read from the host first (the lock lives beside the error log)
      const layout = await resolveLayout(t, h);
      if (layout.problems.length) return row({ result: 'refused', message: layout.problems.join('; ') });
      h = layout.host;
      await takeLock(t, h.nginx, ownerFor(runId, 'rollback'), !!args.values['break-lock']);
      locked = true;
      return row(await recoverHost(h, t, ctx));
    } catch (err) {
      return row({ result: err instanceof LockHeld ? 'refused' : 'rollback_failed', message: (err as Error).message });
    } finally {
      if (locked) await releaseLock(t, h.nginx, runId).catch(() => undefined);
      await t.close().catch(() => undefined);
    }
  });
  const done = rows.filter((r) => r !== undefined);
  process.stdout.write(`\n${recapLines(done.map((r) => ({ host: r.host, result: r.result, ms: r.ms, message: r.message })), Date.now() - started).join('\n')}\n`);
  return worstExit(done.map((r) => EXIT[r.result]));
}
