// listr2 progress on a terminal: a task per host, a subtask per step, with
// durations. It only listens to run events; each task waits for its event.
import { Listr, ListrLogger, ProcessOutput, type ListrTaskWrapper } from 'listr2';
import { formatDuration } from '../playbook/duration.js';
import type { RunEvent } from '../run/events.js';
import { oneLine } from './terminal-text.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

type StepEnd = Extract<RunEvent, { type: 'step-end' }>;
type HostEnd = Extract<RunEvent, { type: 'host-end' }>;

// A title is one line on a redrawn screen: the host's message (nginx -t output,
// stderr) is escaped, or a CR or ESC in it would redraw the operator's terminal.
export function hostTitle(host: string, h: HostEnd): string {
  return oneLine(`${host}: ${h.result} (${formatDuration(h.ms)})${h.message && h.result !== 'ok' && h.result !== 'changed' ? `: ${h.message}` : ''}`);
}

export function stepTitle(label: string, r: StepEnd): string {
  return oneLine(`${label} ${r.result === 'changed' ? '' : `(${r.result}) `}${formatDuration(r.ms)}${r.message && r.result !== 'changed' ? `: ${r.message}` : ''}`);
}

export class ListrReporter {
  private chain: Promise<unknown> = Promise.resolve();
  private steps = new Map<string, Deferred<StepEnd>>();
  private hostEnds = new Map<string, Deferred<HostEnd>>();
  private hostStarts = new Map<string, Deferred<string[]>>();
  private readonly output: ProcessOutput;

  /** `stream`: where the tasks are drawn (stderr; a test hands its own) */
  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.output = new ProcessOutput(stream, stream);
  }

  private get<T>(map: Map<string, Deferred<T>>, key: string): Deferred<T> {
    let d = map.get(key);
    if (!d) map.set(key, (d = deferred<T>()));
    return d;
  }

  on(e: RunEvent): void {
    if (e.type === 'batch-start') this.startBatch(e.batch, e.hosts);
    else if (e.type === 'host-start') this.get(this.hostStarts, e.host).resolve(e.steps);
    else if (e.type === 'step-end') this.get(this.steps, `${e.host}#${e.step}`).resolve(e);
    else if (e.type === 'host-end') {
      this.get(this.hostStarts, e.host).resolve([]);
      this.get(this.hostEnds, e.host).resolve(e);
    }
  }

  private startBatch(batch: number, hosts: string[]) {
    const list = new Listr(
      hosts.map((host) => ({
        title: oneLine(host),
        task: async (_: unknown, task: ListrTaskWrapper<unknown, any, any>) => {
          const steps = await this.get(this.hostStarts, host).promise;
          const end = this.get(this.hostEnds, host).promise.then((h) => {
            task.title = hostTitle(host, h);
          });
          return task.newListr(
            steps.map((label, i) => ({
                title: oneLine(label),
                task: async (_c: unknown, sub: ListrTaskWrapper<unknown, any, any>) => {
                  const r = await this.get(this.steps, `${host}#${i}`).promise;
                  // the host's title (its result, a rollback) is settled with its last step
                  if (i === steps.length - 1) await end.catch(() => undefined);
                  sub.title = stepTitle(label, r);
                  if (r.result === 'skipped') sub.skip(sub.title);
                  if (r.result === 'failed') throw new Error(sub.title);
                },
              })),
            { concurrent: false, exitOnError: false },
          );
        },
      })),
      {
        concurrent: true,
        exitOnError: false,
        registerSignalListeners: false,
        renderer: 'default',
        rendererOptions: { collapseSubtasks: false, showErrorMessage: true, logger: new ListrLogger({ processOutput: this.output }) },
        // listr2 falls back to its simple renderer when stdout is not a terminal (`apply --json | jq`):
        // it too must draw on our stream, or its lines would land in the JSON on stdout
        fallbackRendererOptions: { logger: new ListrLogger({ processOutput: this.output }) },
      },
    );
    this.chain = this.chain.then(() => list.run().catch(() => undefined));
    void batch;
  }

  /** Resolves when everything is drawn. */
  async close(): Promise<void> {
    await this.chain;
  }
}
