// An interrupt (SIGINT/SIGTERM) must be answered within about a second, but
// only reads are abandoned: a change in flight runs to its end (signals and
// renames are quick), so the rollback that follows knows what was done. An
// abandoned read goes on on its own shell of the host's pool and ends by its
// own timeout; it changes nothing.

import { Interrupted } from '../errors.js';

export function abortable<T>(signal: AbortSignal | undefined, p: Promise<T>): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(new Interrupted());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Interrupted());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Sleeps `ms`, or less when `signal` aborts (then resolves: the caller decides what an interrupt means). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
