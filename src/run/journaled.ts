// A host's transport that writes a journal line in the same round trip as the
// command it announces: the line is appended first, and the command does not
// run at all when the line cannot be written. Steps keep calling exec/put as
// before; HostRun.journaled() sets (with before()) the line that goes before its next command.
import type { Duplex } from 'node:stream';
import { RemoteError } from '../remote/run.js';
import { script } from '../remote/scripts.js';
import { settledQuietly, type Command, type ExecOptions, type ExecResult, type PutOptions, type Transport } from '../transport/transport.js';

type Line = { journal: string; text: string };

// src/remote/journal-line.sh: $1 journal, $2 line; then the command's own
// arguments. It exits 213 when the line cannot be written.
const FAILED = 213;

export class JournaledTransport implements Transport {
  private line: Line | null = null;

  /** the inner transport's, when it has one (it starts no command: no line goes with it) */
  readonly freeBytes?: (dir: string) => Promise<number | undefined>;

  constructor(readonly inner: Transport) {
    if (inner.freeBytes) this.freeBytes = (dir) => inner.freeBytes!(dir);
  }

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
    return checked(await this.inner.exec(withLine(argv, line), opts), line);
  }

  /** The line goes with the first command: when it cannot be written, none of them runs. */
  sequence(commands: readonly Command[]): Array<Promise<ExecResult>> {
    const line = this.line;
    if (!line || !commands.length) return this.inner.sequence(commands);
    this.line = null;
    const [first, ...rest] = commands;
    const results = this.inner.sequence([{ ...first!, argv: withLine(first!.argv, line) }, ...rest]);
    results[0] = settledQuietly(results[0]!.then((r) => checked(r, line)));
    return results;
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

function checked(r: ExecResult, line: Line): ExecResult {
  if (r.code === FAILED && r.stderr.includes('hotswap-journal: ')) throw new RemoteError(`cannot write the journal ${line.journal}: ${r.stderr.trim()}`, r.code);
  return r;
}

/** argv with the journal write in front: folded into a script, or exec'ing any other program. */
export function withLine(argv: readonly string[], line: Line): string[] {
  const write = script('journal-line');
  if (argv[0] === 'sh' && argv[1] === '-c' && argv.length >= 4) return ['sh', '-c', write + argv[2], argv[3]!, line.journal, line.text, ...argv.slice(4)];
  return ['sh', '-c', `${write}exec "$@"`, 'hotswap', line.journal, line.text, ...argv];
}
