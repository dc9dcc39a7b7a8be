import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ensureBuilds, type Build } from './nginx-builds.js';
import { startNginxHost, type NginxHost } from './nginx-host.js';
import { startSshd, type Sshd } from './sshd.js';
import { ensureLabUser, type LabUser } from './lab-user.js';
import { freePort } from './free-port.js';

export interface LabHost extends NginxHost {
  name: string;
}

export interface LabFleet {
  dir: string;
  sshd: Sshd;
  user: LabUser;
  builds: { old: Build; new: Build };
  hosts: LabHost[];
  /** a playbook for this fleet: every host over the lab sshd, the given steps */
  playbook(opts?: PlaybookOptions): string;
  writePlaybook(file: string, opts?: PlaybookOptions): Promise<string>;
  stop(): Promise<void>;
}

export interface PlaybookOptions {
  /** the steps: block (YAML, indented by two); default the canonical sequence */
  steps?: string;
  /** extra top-level YAML (strategy:, on_failure: ...) */
  extra?: string;
  /** the build to upgrade to; default the new Debian build */
  build?: string;
  /** host names to list; default all */
  only?: string[];
  /** hosts that are listed but reached as `connection: local` */
  local?: string[];
  /** more playbook vars (scalars), beside `build` */
  vars?: Record<string, string | number>;
  /** per host name: more vars for that host (they win over `vars`) */
  hostVars?: Record<string, Record<string, string | number>>;
  /** per host name: the SSH port to use instead of the lab sshd's (e.g. a closed or silent one) */
  sshPorts?: Record<string, number>;
  /** ssh.connect_timeout, e.g. "2s" */
  connectTimeout?: string;
}

export const CANONICAL_STEPS = `  - backup: { keep: 3 }
  - copy-binary: { src: "{{ build }}" }
  - signal: USR2
  - wait-for-workers: { until: new-master-ready, timeout: 10s }
  - signal: WINCH
  - wait-for-workers: { until: old-workers-exited, timeout: 30s }
  - verify:
      running_binary: new
      http: [{ url: "http://127.0.0.1:{{ http_port }}/healthz", status: 200, contains: ok }]
  - signal: QUIT
  - wait-for-workers: { until: old-master-exited, timeout: 30s }
`;

// Why: tests, the demo and the benchmark all need the same thing: N real nginx
// "hosts" on the old build, each in its own prefix, reached through one private
// sshd on 127.0.0.1 as a plain user, and a playbook that points at them.
export async function startLabFleet(opts: { dir: string; hosts: number; ports?: number[]; sshdPort?: number; build?: 'old' | 'new' }): Promise<LabFleet> {
  const dir = resolve(opts.dir);
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o755); // the lab user must reach its prefix (mkdtemp makes 0700)
  const builds = await ensureBuilds();
  const user = await ensureLabUser();
  const sshd = await startSshd({ dir: join(dir, 'ssh'), port: opts.sshdPort });
  const hosts: LabHost[] = [];
  const stop = async () => {
    await Promise.all(hosts.map((h) => h.stop().catch(() => undefined)));
    await sshd.stop();
  };
  try {
    for (let i = 0; i < opts.hosts; i++) {
      const name = `lab-${i + 1}`;
      const root = join(dir, 'hosts', name);
      await rm(root, { recursive: true, force: true });
      const port = opts.ports?.[i] ?? (await freePort());
      const h = await startNginxHost({ root, binary: builds[opts.build ?? 'old'].path, port, user: { uid: user.uid, gid: user.gid } });
      hosts.push({ ...h, name });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const playbook = (p: PlaybookOptions = {}) => {
    const listed = hosts.filter((h) => !p.only || p.only.includes(h.name));
    const yamlVars = (vars: Record<string, string | number>) => Object.entries(vars).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ');
    const hostVars = (h: LabHost) => yamlVars({ prefix: h.root, http_port: h.port, ...(p.hostVars?.[h.name] ?? {}) });
    return `version: 1
name: lab upgrade
vars:
  build: ${JSON.stringify(p.build ?? builds.new.path)}
${Object.entries(p.vars ?? {})
  .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}\n`)
  .join('')}hosts:
${listed
  .map((h) =>
    p.local?.includes(h.name)
      ? `  - { name: ${h.name}, connection: local, vars: { ${hostVars(h)} } }`
      : `  - { name: ${h.name}, address: 127.0.0.1, port: ${p.sshPorts?.[h.name] ?? sshd.port}, user: ${user.name}, vars: { ${hostVars(h)} } }`,
  )
  .join('\n')}
ssh:
  identity_file: ${JSON.stringify(sshd.identityFile)}
  known_hosts: ${JSON.stringify(sshd.knownHostsFile)}
  host_key_checking: strict
${p.connectTimeout ? `  connect_timeout: ${p.connectTimeout}\n` : ''}nginx:
  prefix: "{{ prefix }}"
${p.extra ?? ''}
steps:
${p.steps ?? CANONICAL_STEPS}`;
  };
  return {
    dir,
    sshd,
    user,
    builds,
    hosts,
    playbook,
    writePlaybook: async (file, p) => {
      await writeFile(file, playbook(p));
      return file;
    },
    stop,
  };
}
