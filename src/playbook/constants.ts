// The playbook's fixed vocabularies, apart from the schema builder so that
// running hotswap never has to load TypeBox.
export const DURATION_RE = '[0-9]+(?:\\.[0-9]+)?(?:ms|s|m|h)';
export const SIGNALS = ['USR2', 'WINCH', 'QUIT', 'HUP', 'TERM'] as const;
export const SIGNAL_TARGETS = ['old-master', 'new-master', 'master'] as const;
export const WAIT_UNTIL = ['new-master-ready', 'old-workers-exited', 'old-master-exited'] as const;
export const STEP_KINDS = ['backup', 'copy-binary', 'signal', 'wait-for-workers', 'verify'] as const;
