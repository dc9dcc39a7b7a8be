// The floor: the least an SSH-driven hot upgrade can cost on this machine.
// One process connects to every host at once (hotswap's own transport) and
// runs one command per host: USR2, wait for the new master, WINCH, QUIT, wait
// for the old master to go. No backup, upload, config test, check, lock or
// journal, and nginx re-execs the build it already runs. The benchmark runs it
// on a fresh lab fleet beside hotswap: on a machine where every "host" shares
// the cores, a full and checked upgrade cannot be faster than this.
//
//   node dist/bench/floor.js '{"port":...,"user":...,"identityFile":...,"knownHostsFile":...,"pidFiles":[...]}'
import { connectSsh } from '../src/transport/ssh.js';

// $1 the pid file. Polls every 10 ms, as tightly as a real wait would.
const SCRIPT = `set -u
pid=$(cat "$1") && kill -USR2 "$pid" || exit 1
until [ -f "$1.oldbin" ] && [ "$(cat "$1")" != "$pid" ]; do sleep 0.01; done
kill -WINCH "$pid" && kill -QUIT "$pid" || exit 1
while [ -f "$1.oldbin" ]; do sleep 0.01; done`;

interface FloorSpec {
  port: number;
  user: string;
  identityFile: string;
  knownHostsFile: string;
  pidFiles: string[];
}

const spec = JSON.parse(process.argv[2] ?? '{}') as FloorSpec;
const failures = await Promise.all(spec.pidFiles.map(async (pidFile, i) => {
  const t = await connectSsh({
    host: `floor-${i + 1}`, address: '127.0.0.1', port: spec.port, user: spec.user, identityFile: spec.identityFile, agent: null,
    connectTimeoutMs: 30_000, hostKeyChecking: 'strict', knownHostsFile: spec.knownHostsFile,
  });
  try {
    const r = await t.exec(['sh', '-c', SCRIPT, 'floor', pidFile], { timeoutMs: 60_000 });
    return r.code === 0 ? null : `${pidFile}: exit ${r.code}: ${r.stderr.trim()}`;
  } finally {
    await t.close();
  }
}));
const failed = failures.filter(Boolean);
if (failed.length) {
  process.stderr.write(`${failed.join('\n')}\n`);
  process.exitCode = 1;
}
