// The playbook's fixed vocabularies and defaults, written once: the schema
// (schema.ts, and through it schemas/playbook.schema.json) is built from these
// lists, and every other module imports them from here. Kept apart from the
// schema builder so that running hotswap never has to load TypeBox.

export const DURATION_RE = '[0-9]+(?:\\.[0-9]+)?(?:ms|s|m|h)';

/** The step kinds: exactly one per step. */
export const STEP_KINDS = ['backup', 'copy-binary', 'signal', 'wait-for-workers', 'verify'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

/** The signals a step (or a rollback) may send to an nginx master. */
export const SIGNALS = ['USR2', 'WINCH', 'QUIT', 'HUP', 'TERM'] as const;
export type SignalName = (typeof SIGNALS)[number];

export const SIGNAL_TARGETS = ['old-master', 'new-master', 'master'] as const;
export type SignalTarget = (typeof SIGNAL_TARGETS)[number];

/** USR2, WINCH and QUIT go to the old master unless told otherwise; HUP and TERM to the only master. */
export const DEFAULT_SIGNAL_TARGET: Readonly<Record<SignalName, SignalTarget>> = { USR2: 'old-master', WINCH: 'old-master', QUIT: 'old-master', HUP: 'master', TERM: 'master' };

/** wait-for-workers `until`: the stages of a hot upgrade. */
export const WAIT_UNTIL = ['new-master-ready', 'old-workers-exited', 'old-master-exited'] as const;
export type WaitUntil = (typeof WAIT_UNTIL)[number];

/** How long each wait lasts when neither the wait nor its step gives a timeout. */
export const WAIT_DEFAULTS: Readonly<Record<WaitUntil, string>> = { 'new-master-ready': '10s', 'old-workers-exited': '5m', 'old-master-exited': '30s' };

/** old-master-exited: how long the new master is then watched. */
export const DEFAULT_SETTLE = '1s';

export const RUNNING_BINARY = ['new', 'old', 'any'] as const;
export type RunningBinary = (typeof RUNNING_BINARY)[number];

export const CONNECTIONS = ['ssh', 'local'] as const;
export type ConnectionKind = (typeof CONNECTIONS)[number];

/** ssh.host_key_checking; the first is the default. */
export const HOST_KEY_CHECKING = ['strict', 'accept-new', 'off'] as const;
export type HostKeyChecking = (typeof HOST_KEY_CHECKING)[number];

/** ssh.client; the first is the default. */
export const SSH_CLIENTS = ['builtin', 'openssh'] as const;
export type SshClient = (typeof SSH_CLIENTS)[number];

/** The key files in ~/.ssh the built-in client tries when no identity is given (as OpenSSH does, in its order). */
export const DEFAULT_KEY_FILES = ['id_rsa', 'id_ecdsa', 'id_ed25519'] as const;
/** Security-key files OpenSSH 9.2 also tries by default; the built-in client cannot use them. */
export const SK_KEY_FILES = ['id_ecdsa_sk', 'id_ed25519_sk'] as const;

/** nginx.package; the first is the default. */
export const PACKAGE_MODES = ['keep', 'divert'] as const;
export type PackageMode = (typeof PACKAGE_MODES)[number];

/** on_failure; the first is the default. */
export const ON_FAILURE = ['rollback', 'stop'] as const;
export type OnFailure = (typeof ON_FAILURE)[number];
