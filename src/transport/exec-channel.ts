// A command on an SSH exec channel of its own: what runs a command given
// stdin (the shells of shell-pool.ts read their commands from theirs), and
// how a remote program is killed.
import { timeoutError } from './local.js';
import { commandLine } from './quote.js';
import type { Ssh2Client } from './ssh2.js';
import type { ExecOptions, ExecResult } from './transport.js';

// The few ssh2 channel shapes used here (ssh2 ships no types in this repo).
export type Channel = NodeJS.ReadWriteStream & {
  stderr: NodeJS.ReadableStream;
  signal(name: string): void;
  close(): void;
  on(ev: 'exit', cb: (code: number | null, signal?: string) => void): Channel;
  on(ev: string, cb: (...a: any[]) => void): Channel;
};

/** Runs argv on a new exec channel: the body of a promise (see SshTransport.tracked). */
export function onExecChannel(client: Ssh2Client, host: string, argv: readonly string[], opts: ExecOptions) {
  const cmd = commandLine(argv);
  return (resolve: (r: ExecResult) => void, reject: (e: Error) => void): void => {
    client.exec(cmd, (err, ch: Channel) => {
      if (err) return reject(new Error(`${host}: cannot open a channel: ${err.message}`));
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      let code: number | null = null;
      let timer: NodeJS.Timeout | undefined;
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          killRemote(ch);
          ch.close();
          reject(timeoutError(host, argv, opts.timeoutMs!));
        }, opts.timeoutMs);
      }
      ch.on('data', (d: Buffer) => out.push(d));
      ch.stderr.on('data', (d: Buffer) => errOut.push(d));
      ch.on('exit', (c: number | null) => { code = typeof c === 'number' ? c : null; });
      ch.on('close', () => {
        clearTimeout(timer);
        resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8'), code });
      });
      ch.end(opts.stdin ?? '');
    });
  };
}

// ssh2's Channel.signal() is a silent no-op once stdin was ended (it checks `writable`),
// and stdin is always ended here; send the request through its protocol object instead.
// OpenSSH (7.9+) then kills the session's process group; older servers ignore it.
export function killRemote(ch: Pick<Channel, 'signal'>): void {
  const c = ch as unknown as { type?: string; outgoing?: { id: number; state: string }; _client?: { _protocol?: { signal(id: number, sig: string): void } } };
  try {
    if (c.type === 'session' && (c.outgoing?.state === 'open' || c.outgoing?.state === 'eof') && c._client?._protocol) c._client._protocol.signal(c.outgoing.id, 'KILL');
    else ch.signal('KILL');
  } catch {
    /* the connection is going away anyway */
  }
}
