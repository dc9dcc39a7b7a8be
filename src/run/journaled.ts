// A host's transport that writes a journal line in the same round trip as the
// command it announces: the line is appended first, and the command does not
// run at all when the line cannot be written. Steps keep calling exec/put as
// before; HostRun.act() says which line goes before its next command.
import type { Duplex } from 'node:stream';
import { RemoteError } from '../steps/file-ops.js';
import type { ExecOptions, ExecResult, PutOptions, Transport } from '../transport/transport.js';

type Line = { journal: string; text: string };

// $1 journal, $2 line; then the command's own arguments.
const WRITE = `printf '%s\\n' "$2" >> "$1" || { echo "hotswap-journal: cannot append to $1" >&2; exit 213; }; shift 2
`;
const FAILED = 213;

export class JournaledTransport implements Transport {
  private line: Line | null = null;

  constructor(readonly inner: Transport) {}

  get host(): string {
    return this.inner.host;
  }

  /** The next command writes `text` to `journal` first. */
  before(journal: string, text: string): void {
    this.line = { journal, text };
  }

  /** Forgets a line no command took (its action failed before touching the host). */
  drop(): void {
    this.line = null;
  }

  async exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    const line = this.line;
    if (!line) return this.inner.exec(argv, opts);
    this.line = null;
    const r = await this.inner.exec(withLine(argv, line), opts);
    if (r.code === FAILED && r.stderr.includes('hotswap-journal: ')) throw new RemoteError(`cannot write the journal ${line.journal}: ${r.stderr.trim()}`, r.code);
    return r;
  }

  async put(data: Buffer, remotePath: string, opts?: PutOptions): Promise<void> {
    await this.flush();
    return this.inner.put(data, remotePath, opts);
  }

  async openTcp(address: string, port: number): Promise<Duplex> {
    await this.flush();
    return this.inner.openTcp(address, port);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async flush(): Promise<void> {
    if (this.line) await this.exec(['true']);
  }
}

/** argv with the journal write in front: folded into a script, or exec'ing any other program. */
export function withLine(argv: readonly string[], line: Line): string[] {
  if (argv[0] === 'sh' && argv[1] === '-c' && argv.length >= 4) return ['sh', '-c', WRITE + argv[2], argv[3]!, line.journal, line.text, ...argv.slice(4)];
  return ['sh', '-c', `${WRITE}exec "$@"`, 'hotswap', line.journal, line.text, ...argv];
}
