// hotswap status: read every host, change nothing.
import type { CommandArgs } from './command-args.js';
import { Exit, type ExitCode } from '../errors.js';
import { loadPlaybook } from '../playbook/load.js';
import { selectedHosts } from './select.js';
import { connector } from '../run/connect.js';
import { pool } from '../run/pool.js';
import { hostStatus, statusText, type HostStatus } from '../run/host-status.js';
import { escapeStrings, jsonText, oneLine } from '../report/terminal-text.js';

export async function run(args: CommandArgs): Promise<ExitCode> {
  const loaded = loadPlaybook(args.playbook);
  const hosts = selectedHosts(loaded, args.values.limit as string | undefined);
  const connect = connector(loaded.playbook);
  const results = await pool(hosts, loaded.playbook.strategy?.concurrency ?? 20, async (h): Promise<HostStatus | { host: string; unreachable: string }> => {
    let t;
    try {
      t = await connect(h);
    } catch (err) {
      return { host: h.name, unreachable: (err as Error).message };
    }
    try {
      return await hostStatus(h, t);
    } catch (err) {
      return { host: h.name, unreachable: (err as Error).message };
    } finally {
      await t.close().catch(() => undefined);
    }
  });
  if (args.values.json) process.stdout.write(jsonText(results, 2) + '\n');
  // everything in a status was read off the host (lock owner, journal, versions, paths): escaped for the terminal
  else process.stdout.write(results.map((r) => (r && 'unreachable' in r ? oneLine(`${r.host}: UNREACHABLE: ${r.unreachable}`) : statusText(escapeStrings(r as HostStatus)))).join('\n\n') + '\n');
  return results.some((r) => r && 'unreachable' in r) ? Exit.unreachable : Exit.ok;
}
