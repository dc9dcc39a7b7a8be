// `ssh -G` as the oracle: what this machine's OpenSSH resolves for a host,
// next to what hotswap resolves from the same files.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { loadSshConfig } from '../../src/ssh-config/load.js';
import { defaultParseEnv } from '../../src/ssh-config/parse-env.js';
import { parseProxyJump } from '../../src/ssh-config/proxy-jump.js';
import { hostConfig } from '../../src/ssh-config/resolve.js';
import { planSsh, type LocalFacts } from '../../src/run/ssh-plan.js';

export type Fields = Record<string, string>;
export type Outcome = { ok: true; fields: Fields } | { ok: false; error: string };

/** The fields compared: every one hotswap takes from an ssh config. */
export const FIELDS = ['hostname', 'user', 'port', 'identityfile', 'identitiesonly', 'identityagent', 'proxyjump', 'proxycommand',
  'userknownhostsfile', 'globalknownhostsfile', 'hostkeyalias', 'hashknownhosts', 'stricthostkeychecking', 'connecttimeout',
  'serveraliveinterval', 'serveralivecountmax'];

const DEFAULT_IDS = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'].map((k) => `~/.ssh/${k}`).join(' ');
export const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', SHELL: '/bin/sh', LANG: 'C' };
const me = userInfo();

export interface Query { file: string; host: string; user?: string; port?: number; home: string }

// Runs every query in one shell inside one mount namespace (one `unshare` per
// home, not per host), in a few parallel workers (ssh's start-up, not the
// namespace, is what costs): each ssh -G writes its stdout, stderr and status
// to files in a scratch directory outside the mounted home.
const WORKERS = 4;
const BATCH = `mount --bind "$1" "$2" || exit 99
out=$3; shift 3
work() {
  local i=0
  while [ $# -ge 4 ]; do
    if [ $((i % ${WORKERS})) -eq $w ]; then
      a=(-G -F "$1"); [ -n "$2" ] && a+=(-l "$2"); [ -n "$3" ] && a+=(-p "$3"); a+=(-- "$4")
      ssh "\${a[@]}" >"$out/$i.out" 2>"$out/$i.err" </dev/null; echo $? >"$out/$i.rc"
    fi
    shift 4; i=$((i+1))
  done
}
for w in $(seq 0 ${WORKERS - 1}); do work "$@" & done
wait`;

/**
 * ssh -G -F FILE HOST for each query, with `home` mounted over this user's home
 * directory (ssh takes ~ from the password database, not $HOME), in a mount
 * namespace of its own. All queries share `home`.
 */
export function sshGAll(home: string, queries: ReadonlyArray<Omit<Query, 'home'>>): Outcome[] {
  if (!queries.length) return [];
  const out = mkdtempSync(join(tmpdir(), 'hotswap-sshG-'));
  try {
    const args = queries.flatMap((q) => [q.file, q.user ?? '', q.port ? String(q.port) : '', q.host]);
    const r = spawnSync('unshare', ['-m', 'bash', '-c', BATCH, 'bash', home, me.homedir, out, ...args], {
      encoding: 'utf8', env: { ...ENV, HOME: me.homedir }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000,
    });
    if (r.error) throw new Error(`cannot run ssh -G in a mount namespace (needs util-linux unshare, bash, openssh-client, and root): ${r.error.message}`);
    if (r.status !== 0) throw new Error(`cannot run ssh -G in a mount namespace (run the tests as root; needs util-linux unshare and openssh-client): ${r.stderr.trim() || `status ${r.status}`}`);
    return queries.map((_, i) => {
      const read = (ext: string) => { try { return readFileSync(join(out, `${i}.${ext}`), 'utf8'); } catch { return null; } };
      const rc = read('rc');
      if (rc === null) throw new Error(`ssh -G did not run for query ${i}: ${r.stderr.trim()}`);
      if (rc.trim() === '127') throw new Error(`ssh not found: install openssh-client (${read('err')?.trim()})`);
      if (rc.trim() !== '0') return { ok: false, error: (read('err') ?? '').trim() };
      return { ok: true, fields: fieldsOf(read('out') ?? '') };
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export function sshG(q: Query): Outcome {
  return sshGAll(q.home, [q])[0]!;
}

function fieldsOf(stdout: string): Fields {
  const all: Record<string, string[]> = {};
  for (const l of stdout.split('\n')) {
    const i = l.indexOf(' ');
    if (i > 0) (all[l.slice(0, i).toLowerCase()] ??= []).push(l.slice(i + 1));
  }
  const fields: Fields = {};
  for (const f of FIELDS) fields[f] = (all[f] ?? []).join(' ');
  if (fields.identityfile === DEFAULT_IDS) fields.identityfile = '(default)';
  return fields;
}

/** The same query answered by hotswap: its config resolution and its connection plan. */
export function hotswapG(q: Query): Outcome {
  const local: LocalFacts = { home: q.home, user: me.username, uid: me.uid, hostname: hostname() };
  try {
    const loaded = loadSshConfig([{ file: q.file, includeBase: `${q.home}/.ssh`, required: true }], q.home, defaultParseEnv(ENV));
    // one evaluation per host, user and port, as the connector does: `Match exec` commands run once
    const cache = new Map<string, ReturnType<typeof hostConfig>>();
    const lookup = (h: string, preset: { user?: string; port?: number } = {}) => {
      const key = JSON.stringify([h, preset.user, preset.port]);
      return cache.get(key) ?? cache.set(key, hostConfig(loaded.files, { host: h, ...preset, local })).get(key)!;
    };
    const cfg = lookup(q.host, { user: q.user, port: q.port });
    const plan = planSsh({ name: q.host, ssh: { address: q.host, ...(q.user ? { user: q.user } : {}), ...(q.port ? { port: q.port } : {}) } as never }, {}, lookup, local);
    const t = plan.target;
    const home = (s: string) => (s.startsWith(q.home) ? me.homedir + s.slice(q.home.length) : s);
    const jump = cfg.proxyJump ? parseProxyJump(cfg.proxyJump.value).map((h) => `${h.user ? `${h.user}@` : ''}${h.host}${h.port ? `:${h.port}` : ''}`).join(',') : '';
    const strict = cfg.strictHostKeyChecking?.value;
    const fields: Fields = {
      hostname: t.address,
      user: t.user,
      port: String(t.port),
      identityfile: cfg.identityFiles.length ? cfg.identityFiles.map((f) => f.value).join(' ') : '(default)',
      identitiesonly: t.identitiesOnly ? 'yes' : 'no',
      identityagent: cfg.identityAgent ? (cfg.identityAgent.value.toLowerCase() === 'none' ? 'none' : cfg.identityAgent.value === 'SSH_AUTH_SOCK' ? 'SSH_AUTH_SOCK' : home(t.agent ?? '')) : '',
      proxyjump: jump,
      proxycommand: cfg.proxyCommand?.value ?? '',
      userknownhostsfile: cfg.userKnownHostsFiles?.value.length === 0 ? 'none' : t.knownHostsFiles.map(home).join(' '),
      globalknownhostsfile: cfg.globalKnownHostsFiles?.value.length === 0 ? 'none' : t.globalKnownHostsFiles.map(home).join(' '),
      hostkeyalias: t.hostKeyAlias ?? '',
      hashknownhosts: t.hashKnownHosts ? 'yes' : 'no',
      stricthostkeychecking: strict === undefined ? 'ask' : strict === 'yes' ? 'true' : strict === 'no' ? 'false' : strict,
      connecttimeout: cfg.connectTimeout ? String(cfg.connectTimeout.value) : 'none',
      serveraliveinterval: String(cfg.serverAliveInterval?.value ?? 0),
      serveralivecountmax: String(cfg.serverAliveCountMax?.value ?? 3),
    };
    return { ok: true, fields };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

/** Field by field differences, as `field: ssh=… hotswap=…`. */
export function differences(ssh: Outcome, ours: Outcome): string[] {
  if (!ssh.ok || !ours.ok) return ssh.ok === ours.ok ? [] : [`ssh ${ssh.ok ? 'accepts' : `refuses (${ssh.error.split('\n')[0]})`}, hotswap ${ours.ok ? 'accepts' : `refuses (${ours.error})`}`];
  return FIELDS.filter((f) => ssh.fields[f] !== ours.fields[f]).map((f) => `${f}: ssh=${JSON.stringify(ssh.fields[f])} hotswap=${JSON.stringify(ours.fields[f])}`);
}
