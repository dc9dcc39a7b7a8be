// A playbook as it applies to one host: every {{ }} interpolated, every
// default filled in. This is what the plan, the runner and the report use.
import type { Playbook, Step } from './schema.js';
import type { ConnectionKind, PackageMode } from './vocabulary.js';

export interface NginxPaths {
  /** '' when the playbook gives none (a packaged nginx: the paths are given or read from the host) */
  prefix: string;
  binary: string;
  pid_file: string;
  conf: string;
  error_log: string;
  /** paths the playbook left to the host: read at plan/apply time (src/run/host-layout.ts); until then placeholders */
  derive?: DerivedKey[];
}

export type DerivedKey = 'pid_file' | 'conf' | 'error_log';

/** The placeholder a path to be read from the host holds until then (never a path: gatherFacts refuses it). */
export const derivedPlaceholder = (key: DerivedKey) => `<${key}: read from the host>`;

export interface SshTarget {
  address: string;
  port?: number;
  user?: string;
  identityFile?: string;
}

export interface ResolvedHost {
  name: string;
  connection: ConnectionKind;
  ssh: SshTarget;
  nginx: NginxPaths;
  /** nginx.package: what to do about a package-owned file hotswap replaces (default keep) */
  package?: PackageMode;
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
