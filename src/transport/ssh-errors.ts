// The built-in client's error text: what went wrong, said in words an
// operator can act on, instead of ssh2's or the socket's codes.

// RFC 4254 reason codes: say why sshd refused to open the connection.
const OPEN_FAILURES: Record<number, string> = {
  1: 'administratively prohibited (sshd AllowTcpForwarding/PermitOpen)',
  2: 'connect failed',
  3: 'unknown channel type',
  4: 'resource shortage',
};

export function channelFailure(err: Error & { reason?: number }): string {
  const why = err.reason !== undefined ? OPEN_FAILURES[err.reason] : undefined;
  return why ? `${why}: ${err.message.replace(/^\(SSH\) Channel open failure: /, '')}` : err.message;
}

/** Why a connection could not be made; `keyLabel` names the keys that were tried. */
export function describeConnectError(e: NodeJS.ErrnoException & { level?: string }, opts: { connectTimeoutMs: number; address: string; user: string }, keyLabel: string): string {
  switch (e.code) {
    case 'ECONNREFUSED': return 'connection refused';
    case 'ETIMEDOUT': return e.message.startsWith('No response')
      ? 'connection closed by the server before the handshake finished'
      : `connection timed out after ${opts.connectTimeoutMs} ms`;
    case 'ENOTFOUND': case 'EAI_AGAIN': return `cannot resolve ${opts.address}`;
    case 'EHOSTUNREACH': return 'no route to host';
    case 'ENETUNREACH': return 'network unreachable';
    case 'ECONNRESET': return 'connection reset by the server';
  }
  if (e.level === 'client-timeout') return `connection timed out after ${opts.connectTimeoutMs} ms (no SSH handshake)`;
  if (e.level === 'client-authentication') return `authentication failed as ${opts.user} (tried ${keyLabel})`;
  if (/privateKey|Cannot parse privateKey/i.test(e.message)) return `cannot use identity file ${keyLabel}: ${e.message.split('\n')[0]}`;
  return (e.message || String(e)).split('\n')[0]!;
}
