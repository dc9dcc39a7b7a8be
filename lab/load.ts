import { Agent, ClientRequest, request } from 'node:http';
import { connect, type Socket } from 'node:net';

export type LoadOptions = {
  url: string;
  /** requests in flight at once (default 10) */
  concurrency?: number;
  /** stop issuing requests after this long (default 10 s) */
  durationMs?: number;
  /** stop after this many requests in total (default 100 000) */
  maxRequests?: number;
  /** reuse connections (default false: one TCP connection per request, `Connection: close`) */
  keepAlive?: boolean;
  /** give up on one request after this long (default 5 s) */
  requestTimeoutMs?: number;
};

export type LoadResult = {
  ok: number;
  failed: number;
  /** failures by cause: an errno code ("ECONNREFUSED"), "HTTP 502", "timeout" */
  errors: Record<string, number>;
  /** resets of a reused keep-alive socket: not failures, a client retries them */
  keepAliveResets: number;
};

// Why: "zero dropped requests" must be measured, not assumed; this drives traffic at
// a host through an upgrade and counts every failure by cause, bounded in time and count.
export function runLoad(opts: LoadOptions): { controller: AbortController; done: Promise<LoadResult> } {
  const controller = new AbortController();
  const concurrency = opts.concurrency ?? 10;
  const url = new URL(opts.url);
  const deadline = Date.now() + (opts.durationMs ?? 10_000);
  const maxRequests = opts.maxRequests ?? 100_000;
  const timeout = opts.requestTimeoutMs ?? 5_000;
  const agent = opts.keepAlive ? new Agent({ keepAlive: true, maxSockets: concurrency }) : false;
  const result: LoadResult = { ok: 0, failed: 0, errors: {}, keepAliveResets: 0 };
  let issued = 0;
  const inFlight = new Set<ClientRequest>();
  // req.reusedSocket misses sockets handed straight to a queued request, so track reuse ourselves.
  const usedSockets = new WeakSet<Socket>();
  controller.signal.addEventListener('abort', () => { for (const r of inFlight) r.destroy(); }, { once: true });

  const fail = (cause: string) => {
    result.failed++;
    result.errors[cause] = (result.errors[cause] ?? 0) + 1;
  };

  const one = () => new Promise<void>((resolve) => {
    let settled = false;
    let reused = false;
    const settle = (count: () => void) => {
      if (settled) return;
      settled = true;
      if (!controller.signal.aborted) count(); // stopped by the caller: not a failure
      resolve();
    };
    const req = request(url, { agent, headers: opts.keepAlive ? {} : { Connection: 'close' }, timeout }, (res) => {
      res.resume();
      res.once('end', () => settle(() => (res.statusCode === 200 ? result.ok++ : fail(`HTTP ${res.statusCode}`))));
      res.once('error', (e) => settle(() => fail((e as NodeJS.ErrnoException).code ?? e.message)));
    });
    inFlight.add(req);
    req.once('socket', (s) => { reused = usedSockets.has(s); usedSockets.add(s); });
    req.once('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.once('error', (e: NodeJS.ErrnoException) => settle(() => {
      const reset = e.code === 'ECONNRESET' || e.message === 'socket hang up';
      if (reset && reused) result.keepAliveResets++;
      else fail(e.code ?? e.message);
    }));
    req.once('close', () => {
      inFlight.delete(req);
      settle(() => fail('closed before a response'));
    });
    req.end();
  });

  const worker = async () => {
    while (!controller.signal.aborted && issued < maxRequests && Date.now() < deadline) {
      issued++;
      await one();
    }
  };

  const done = Promise.all(Array.from({ length: concurrency }, worker)).then(() => {
    if (agent) agent.destroy();
    return result;
  });
  return { controller, done };
}

// Why: a request whose headers never end parks a TCP connection in a worker,
// which then cannot exit gracefully: the long-lived client of NGINX-UPGRADE.md.
// Resolves once the worker has had a moment to accept it; destroy() lets it go.
export function holdConnection(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.write('GET / HTTP/1.1\r\nHost: lab\r\n');
      setTimeout(() => resolve(s), 100);
    });
    s.once('error', reject);
  });
}
