// Asking a secret on the terminal without echoing it.

export class NoTerminalError extends Error {
  constructor() {
    super('no terminal to ask on');
    this.name = 'NoTerminalError';
  }
}

let queue: Promise<unknown> = Promise.resolve();

// Why: a key's passphrase may only come from the person at the terminal. Input
// is read in raw mode, so nothing is echoed; prompts from hosts connecting at
// once are asked one after the other. Ctrl-C or Ctrl-D gives up.
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return Promise.reject(new NoTerminalError());
  const next = queue.then(() => ask(stdin, question));
  queue = next.catch(() => undefined);
  return next;
}

function ask(stdin: NodeJS.ReadStream, question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const out = process.stderr;
    const wasRaw = stdin.isRaw;
    let answer = '';
    const done = (err: Error | null) => {
      stdin.off('data', onData);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      out.write('\n');
      if (err) reject(err);
      else resolve(answer);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(null);
        if (ch === '\u0003' || ch === '\u0004') return done(new Error('cancelled at the prompt'));
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else if (ch === '\u0015') answer = ''; // Ctrl-U
        else if (ch >= ' ') answer += ch;
      }
    };
    out.write(question);
    stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}
