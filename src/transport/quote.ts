// The one place a remote command line is built. Every argument is quoted for
// POSIX sh, so a user value is always a single word and never shell syntax.
export function quoteArg(arg: string): string {
  if (arg === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return "'" + arg.replace(/'/g, `'\\''`) + "'";
}

export function commandLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('commandLine: empty argv');
  return argv.map(quoteArg).join(' ');
}
