// The playbook format v1, written once: the JSON Schema in schemas/ is generated
// from this file (npm run build) and the TypeScript types are derived from it,
// so the two can never drift apart.
import { Type, type SchemaOptions, type Static, type TSchema } from '@sinclair/typebox';
import {
  CONNECTIONS, DEFAULT_SETTLE, DURATION_RE, HOST_KEY_CHECKING, ON_FAILURE, PACKAGE_MODES, RUNNING_BINARY, SIGNALS, SIGNAL_TARGETS, SSH_CLIENTS, STEP_KINDS, WAIT_DEFAULTS, WAIT_UNTIL,
  type StepKind,
} from './vocabulary.js';

/** One of a vocabulary's words (see vocabulary.ts). */
const OneOf = <T extends string>(words: readonly T[], options: SchemaOptions) => Type.Union(words.map((w) => Type.Literal(w)), options);

// Any string value may hold {{ var }}: patterns accept a template and the rules
// check the value again after interpolation.
const TEMPLATE = '\\{\\{.*\\}\\}';
const withTemplate = (re: string) => `^(?:${re}|.*${TEMPLATE}.*)$`;

const Duration = (description: string, examples: string[]) =>
  Type.String({ pattern: withTemplate(DURATION_RE), description, examples });

const HostPath = (description: string, examples: string[]) =>
  Type.String({ minLength: 1, description, examples });

const Vars = Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
  description: 'Variables usable as {{ name }} in any string value.',
  examples: [{ build: './build/nginx-1.26.3', prefix: '/opt/nginx' }],
});

const Connection = OneOf(CONNECTIONS, {
  description: 'How to reach the host: over SSH (default), or `local` to run on this machine without SSH.',
  examples: ['ssh'],
});

const Port = Type.Integer({ minimum: 1, maximum: 65535, description: 'SSH port.', examples: [22] });

export const HostEntrySchema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'The host\'s name in output and --limit; also the SSH host when `address` is absent (~/.ssh/config applies).', examples: ['edge-2'] }),
    address: Type.Optional(Type.String({ minLength: 1, description: 'Address or DNS name to connect to.', examples: ['10.0.0.12'] })),
    port: Type.Optional(Port),
    user: Type.Optional(Type.String({ minLength: 1, description: 'SSH login user.', examples: ['deploy'] })),
    connection: Type.Optional(Connection),
    vars: Type.Optional(Vars),
  },
  { additionalProperties: false, description: 'A host with its own settings.', examples: [{ name: 'edge-2', address: '10.0.0.12', port: 22, user: 'deploy' }] },
);

const HostName = Type.String({ minLength: 1, description: 'A host name, resolved like `ssh NAME`.', examples: ['edge-1'] });

const Hosts = Type.Union(
  [
    Type.Array(Type.Union([HostName, HostEntrySchema]), { minItems: 1 }),
    Type.String({ minLength: 1, description: 'A host pattern over the inventory.', examples: ['edge:!edge-9'] }),
  ],
  {
    description: 'The hosts to upgrade: a list of names or host objects, or a host pattern (groups, globs, `!name`) when `inventory` is given.',
    examples: [['edge-1', { name: 'edge-2', address: '10.0.0.12' }], 'edge'],
  },
);

const Ssh = Type.Object(
  {
    user: Type.Optional(Type.String({ minLength: 1, description: 'Login user for every host.', examples: ['deploy'] })),
    port: Type.Optional(Port),
    identity_file: Type.Optional(Type.String({ minLength: 1, description: 'Private key file on the control machine (`~` expands); tried before the IdentityFile entries of ~/.ssh/config.', examples: ['~/.ssh/id_ed25519'] })),
    identity_passphrase_env: Type.Optional(Type.String({
      pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
      description: 'Name of an environment variable holding the passphrase of encrypted keys (never the passphrase itself). Without it, hotswap asks on the terminal, or uses ssh-agent.',
      examples: ['HOTSWAP_KEY_PASSPHRASE'],
    })),
    host_key_checking: Type.Optional(
      OneOf(HOST_KEY_CHECKING, {
        description: '`strict` (default) refuses unknown and changed host keys; `accept-new` records unknown keys, refuses changed ones; `off` accepts any key, loudly.',
        examples: ['strict'],
      }),
    ),
    known_hosts: Type.Optional(Type.String({ minLength: 1, description: 'known_hosts file to check host keys against.', examples: ['~/.ssh/known_hosts'] })),
    config_file: Type.Optional(Type.String({ minLength: 1, description: 'OpenSSH client config to read instead of ~/.ssh/config and /etc/ssh/ssh_config (like `ssh -F`).', examples: ['~/.ssh/config'] })),
    proxy_jump: Type.Optional(Type.String({ minLength: 1, description: 'Bastion(s) to jump through, as for `ssh -J`: `[user@]host[:port]`, comma-separated for several hops, or `none` to ignore ProxyJump from ~/.ssh/config.', examples: ['bastion.example.com', 'ops@jump1:2222,jump2'] })),
    become: Type.Optional(Type.Literal('sudo', { description: 'Run remote commands through `sudo -n` (or `sudo -S` with become_password_env); uploads are moved into place with sudo.', examples: ['sudo'] })),
    become_password_env: Type.Optional(Type.String({
      pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
      description: 'Name of an environment variable holding the sudo password, used only when sudo asks for one (never the password itself).',
      examples: ['HOTSWAP_SUDO_PASSWORD'],
    })),
    connect_timeout: Type.Optional(Duration('How long to wait for a connection (default 10s).', ['10s'])),
    client: Type.Optional(OneOf(SSH_CLIENTS, {
      description: '`builtin` (default): hotswap\'s own SSH client. `openssh`: the system `ssh`, multiplexed (one ControlMaster per host), reading your ssh config itself: FIDO/PKCS#11 keys, GSSAPI, certificates, any ProxyCommand.',
      examples: ['builtin'],
    })),
  },
  { additionalProperties: false, description: 'SSH defaults for every host.' },
);

const Nginx = Type.Object(
  {
    prefix: Type.Optional(HostPath('nginx install prefix on the host (a hand-built nginx); the other paths default from it. Give `prefix` or `binary`: with only `binary` (a packaged nginx), `pid_file`, `conf` and `error_log` not given are read from the host at plan/apply time (`nginx -V`, the master\'s `-p`/`-c`/`-g`, `nginx -T`).', ['/usr/local/nginx'])),
    binary: Type.Optional(HostPath('The nginx executable the running master execs (default `{{ prefix }}/sbin/nginx`; required without `prefix`).', ['/usr/sbin/nginx'])),
    pid_file: Type.Optional(HostPath('The pid file from the `pid` directive (default `{{ prefix }}/logs/nginx.pid`).', ['/run/nginx.pid'])),
    conf: Type.Optional(HostPath('Main config file (default `{{ prefix }}/conf/nginx.conf`).', ['/etc/nginx/nginx.conf'])),
    error_log: Type.Optional(HostPath('Error log (default `{{ prefix }}/logs/error.log`).', ['/var/log/nginx/error.log'])),
    package: Type.Optional(OneOf(PACKAGE_MODES, {
      description: 'When dpkg owns a file hotswap replaces (the binary, a module): `keep` (default) leaves the package as it is, so its next upgrade replaces hotswap\'s build (plan warns); `divert` adds a local dpkg-divert (the package\'s file goes to `PATH.distrib`) before the rename, so package upgrades leave hotswap\'s build in place; a rollback removes a diversion its run added.',
      examples: ['divert'],
    })),
  },
  { additionalProperties: false, description: 'Where nginx lives on every host (host `vars` may override via {{ }}).' },
);

const SerialItem = Type.Union([
  Type.Integer({ minimum: 1, description: 'A number of hosts.', examples: [1] }),
  Type.String({ pattern: withTemplate('[0-9]+(?:\\.[0-9]+)?%'), description: 'A percentage of all hosts (rounded down, at least 1).', examples: ['25%'] }),
]);

const Strategy = Type.Object(
  {
    serial: Type.Optional(
      Type.Union([SerialItem, Type.Array(SerialItem, { minItems: 1 })], {
        description: 'Batch sizes: a count, a percentage, or a list whose last item repeats. Default: all hosts in one batch.',
        examples: [[1, '25%']],
      }),
    ),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, description: 'Hosts in flight at once within a batch (default 20).', examples: [20] })),
    max_fail_percentage: Type.Optional(
      Type.Number({ minimum: 0, maximum: 100, description: 'Hosts of a batch that failed, were rolled back, refused or unreachable, above this percentage, halt the rollout (default 0).', examples: [0] }),
    ),
    pause: Type.Optional(
      Type.String({
        pattern: withTemplate(`${DURATION_RE}|confirm`),
        description: 'Between batches: a duration, or `confirm` to ask (refused without a terminal unless --yes).',
        examples: ['0s', 'confirm'],
      }),
    ),
  },
  { additionalProperties: false, description: 'How the rollout proceeds through the fleet.' },
);


const SignalName = OneOf(SIGNALS, { description: 'The signal to send.', examples: ['USR2'] });

const Backup = Type.Object(
  {
    dest: Type.Optional(HostPath('Where to copy the binary (default `{{ binary }}.<UTC timestamp>.bak`).', ['/usr/local/nginx/sbin/nginx.bak'])),
    keep: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'How many backups to keep (default 3).', examples: [3] })),
    dir: Type.Optional(HostPath('Root of the backup tree: a backup of FILE goes to `<dir><directory of FILE>/` (default: `/var/backups/hotswap` for a file a package owns, beside the file otherwise; given, it is used for every file).', ['/var/backups/hotswap'])),
  },
  { additionalProperties: false, description: 'Copy the file the running master would exec, verify the copy, prune old backups.', examples: [{ keep: 3 }] },
);

const ModuleFile = Type.Union([
  Type.String({ minLength: 1, description: 'A module file on the control machine (relative to the playbook); it replaces the loaded module of the same file name.', examples: ['./build/ngx_stream_module.so'] }),
  Type.Object(
    {
      src: Type.String({ minLength: 1, description: 'The module file on the control machine (relative to the playbook).', examples: ['./build/ngx_stream_module.so'] }),
      dest: Type.Optional(HostPath('The module file it replaces on the host (default: the module the running config loads with the same file name).', ['/usr/lib/nginx/modules/ngx_stream_module.so'])),
      sha256: Type.Optional(Type.String({ pattern: withTemplate('[0-9a-f]{64}'), description: 'Expected sha256 of `src`.', examples: ['bc08ffbb8c8dcc4af51a7816a8afedbe2d4526787cfd9f3a49e26c208217d550'] })),
    },
    { additionalProperties: false, required: ['src'] },
  ),
], { description: 'A dynamic module: its file, or `{src, dest, sha256}`.' });

const CopyBinary = Type.Object(
  {
    src: Type.String({ minLength: 1, description: 'The new nginx binary on the control machine (relative to the playbook).', examples: ['./build/nginx-1.26.3'] }),
    sha256: Type.Optional(Type.String({ pattern: withTemplate('[0-9a-f]{64}'), description: 'Expected sha256 of `src` (64 lowercase hex digits).', examples: ['bc08ffbb8c8dcc4af51a7816a8afedbe2d4526787cfd9f3a49e26c208217d550'] })),
    test_config: Type.Optional(Type.Boolean({ description: 'Run `<new binary> -t` with the running master\'s arguments before replacing (default true).', examples: [true] })),
    modules: Type.Optional(Type.Array(ModuleFile, { maxItems: 100, description: 'Dynamic modules built for the new binary, shipped with it: each staged beside the module file it replaces, checked, tested with the new binary\'s `nginx -t` (a copy of the config loading the staged modules), backed up, and renamed into place just before the binary; a rollback restores them with it.', examples: [['./build/ngx_stream_module.so']] })),
  },
  { additionalProperties: false, required: ['src'], description: 'Upload the new binary beside the old, check it, and rename it into place.', examples: [{ src: '{{ build }}' }] },
);

const Signal = Type.Union(
  [
    SignalName,
    Type.Object(
      {
        send: SignalName,
        to: Type.Optional(OneOf(SIGNAL_TARGETS, { description: 'Which master: the old one (serving before the upgrade), the new one, or the only one.', examples: ['old-master'] })),
      },
      { additionalProperties: false },
    ),
  ],
  { description: 'Send a signal to an nginx master (USR2, WINCH, QUIT go to the old master by default).', examples: ['USR2', { send: 'QUIT', to: 'new-master' }] },
);

const WaitForWorkers = Type.Object(
  {
    until: OneOf(WAIT_UNTIL, { description: 'The condition to wait for.', examples: ['new-master-ready'] }),
    timeout: Type.Optional(Duration(`Give up after this long (defaults: ${Object.values(WAIT_DEFAULTS).join(', ')}).`, [WAIT_DEFAULTS['new-master-ready']])),
    settle: Type.Optional(Duration(`old-master-exited only: then watch the new master this long: still the master in the pid file, alive, with workers, answering the verify steps' HTTP checks (default ${DEFAULT_SETTLE}; 0s: no watch).`, [DEFAULT_SETTLE])),
  },
  { additionalProperties: false, description: 'Wait on the host until a stage of the upgrade is reached.', examples: [{ until: 'new-master-ready', timeout: '10s' }] },
);

const HttpCheck = Type.Object(
  {
    url: Type.String({ pattern: withTemplate('https?://.+'), description: 'URL fetched on the host itself (127.0.0.1 is the host).', examples: ['http://127.0.0.1/healthz'] }),
    status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599, description: 'Expected status (default 200).', examples: [200] })),
    contains: Type.Optional(Type.String({ description: 'Text the body must contain.', examples: ['ok'] })),
    header: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Response headers that must match a regular expression.', examples: [{ Server: '^nginx' }] })),
  },
  { additionalProperties: false, description: 'An HTTP check.' },
);

const Verify = Type.Object(
  {
    running_binary: Type.Optional(OneOf(RUNNING_BINARY, { description: 'Which build the master must be running, by sha256 of /proc/<master>/exe (default `new`).', examples: ['new'] })),
    version: Type.Optional(Type.String({ minLength: 1, description: 'Text `nginx -v` of the running binary must contain.', examples: ['1.26.3'] })),
    http: Type.Optional(Type.Array(HttpCheck, { description: 'HTTP checks run on the host.' })),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: 'Extra attempts before the check fails (default 0).', examples: [3] })),
    interval: Type.Optional(Duration('Pause between attempts (default 1s).', ['1s'])),
  },
  { additionalProperties: false, description: 'Prove which binary runs and that it serves.', examples: [{ running_binary: 'new' }] },
);


export const StepSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, description: 'A label for the step in output.', examples: ['drain old workers'] })),
    timeout: Type.Optional(Duration('A bound on the whole step.', ['30s'])),
    backup: Type.Optional(Backup),
    'copy-binary': Type.Optional(CopyBinary),
    signal: Type.Optional(Signal),
    'wait-for-workers': Type.Optional(WaitForWorkers),
    verify: Type.Optional(Verify),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    // exactly one step kind per item
    oneOf: STEP_KINDS.map((k) => ({ required: [k] })),
    description: `One step: exactly one of ${STEP_KINDS.join(', ')}; optionally \`name\` and \`timeout\`.`,
  },
);

export const PlaybookSchema = Type.Object(
  {
    version: Type.Literal(1, { description: 'Playbook format version.', examples: [1] }),
    name: Type.Optional(Type.String({ minLength: 1, description: "What this rollout does, shown in output (default: the playbook's file name).", examples: ['edge nginx 1.26.2 -> 1.26.3'] })),
    vars: Type.Optional(Vars),
    hosts: Hosts,
    inventory: Type.Optional(Type.String({ minLength: 1, description: 'An Ansible INI or YAML inventory, relative to the playbook.', examples: ['./inventory.ini'] })),
    ssh: Type.Optional(Ssh),
    nginx: Nginx,
    strategy: Type.Optional(Strategy),
    on_failure: Type.Optional(OneOf(ON_FAILURE, { description: '`rollback` (default) undoes a failed host; `stop` leaves it as it is for a person.', examples: ['rollback'] })),
    steps: Type.Array(StepSchema, { minItems: 1, description: 'The ordered steps run on each host.' }),
  },
  { additionalProperties: false, title: 'hotswap playbook', description: 'A hotswap playbook: upgrade the nginx binary on a fleet without dropping a request.' },
);

/** What each step kind holds, as the schema has it. */
export type StepSpecs = Required<Pick<Static<typeof StepSchema>, StepKind>>;
type StepCommon = Omit<Static<typeof StepSchema>, StepKind>;
/** A step of kind K: its `name` and `timeout`, K's spec, and no other kind (the schema's oneOf). */
export type StepOf<K extends StepKind> = StepCommon & { [P in K]: StepSpecs[P] } & { [P in Exclude<StepKind, K>]?: never };
/** One step, discriminated by which kind's key it has: `'signal' in step`, or stepKind()/stepOf() in step.ts. */
export type Step = { [K in StepKind]: StepOf<K> }[StepKind];

/** A playbook as loaded: `name` defaults to the file's name; each step has exactly one kind (the schema checked it). */
export type Playbook = Omit<Static<typeof PlaybookSchema>, 'steps'> & { name: string; steps: Step[] };
export type HostEntry = Static<typeof HostEntrySchema>;
export type BackupStep = Static<typeof Backup>;
export type CopyBinaryStep = Static<typeof CopyBinary>;
export type ModuleFileSpec = Static<typeof ModuleFile>;
export type SignalStep = Static<typeof Signal>;
export type WaitStep = Static<typeof WaitForWorkers>;
export type VerifyStep = Static<typeof Verify>;
export type HttpCheckSpec = Static<typeof HttpCheck>;

/** The schema as a plain JSON document (draft-07), as written to schemas/. */
export function playbookJsonSchema(): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(PlaybookSchema as TSchema)) as Record<string, unknown>;
  return { $schema: 'http://json-schema.org/draft-07/schema#', ...plain };
}
