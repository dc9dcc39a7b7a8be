// What a failed `nginx -t` of the staged build means. A config the new build
// rejects is a different problem from a file the login cannot read or that is
// missing: each gets its own message, so the operator fixes the right thing.

export type ConfigTestFailure =
  | { kind: 'missing'; path: string; message: string }
  | { kind: 'permission'; path: string | null; message: string }
  | { kind: 'rejected'; message: string };

/** The args nginx resolves from its working directory: only a relative `-p` (paths in the config and -c/-g go from the prefix). */
export function needsMasterCwd(args: { prefix?: string }): boolean {
  return args.prefix !== undefined && !args.prefix.startsWith('/');
}

/**
 * Classifies the output of a failed `nginx -t` by its [emerg] line: open()
 * or mkdir() failing with errno 2 is a missing file, errno 13 (or any
 * "Permission denied") a permission problem, anything else a rejection.
 */
export function classifyConfigTest(output: string): ConfigTestFailure {
  const emerg = output.split(/\r?\n|; /).find((l) => /\[emerg\]/.test(l)) ?? '';
  const detail = output.trim();
  const call = /(?:open|mkdir|stat|opendir)\(\) "([^"]*)" failed \((\d+): [^)]*\)/.exec(emerg);
  if (call && call[2] === '2') return { kind: 'missing', path: call[1], message: `nginx -t cannot find ${call[1]} (no such file or directory): ${detail}` };
  if ((call && call[2] === '13') || /Permission denied/i.test(emerg)) {
    const path = call?.[1] ?? null;
    return { kind: 'permission', path, message: `the login cannot open ${path ?? 'a file the config needs'} (permission denied), so nginx -t could not check the config: connect as nginx's owner or use become: sudo: ${detail}` };
  }
  return { kind: 'rejected', message: `the new build rejects the running config (nginx -t): ${detail}` };
}
