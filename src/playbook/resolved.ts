// A playbook as it applies to one host: every {{ }} interpolated, every
// default filled in. This is what the plan, the runner and the report use.
import type { Playbook, Step } from './schema.js';

export interface NginxPaths {
  prefix: string;
  binary: string;
  pid_file: string;
  conf: string;
  error_log: string;
}

export interface SshTarget {
  address: string;
  port?: number;
  user?: string;
  identityFile?: string;
}

export interface ResolvedHost {
  name: string;
  connection: 'ssh' | 'local';
  ssh: SshTarget;
  nginx: NginxPaths;
  steps: Step[];
  /** groups from the inventory, for --limit */
  groups: string[];
}

export interface LoadedPlaybook {
  file: string;
  /** the playbook's folder: relative control-machine paths start here */
  dir: string;
  playbook: Playbook;
  hosts: ResolvedHost[];
  /** all groups of the inventory (empty without one), for --limit */
  groups: Map<string, Set<string>>;
}
