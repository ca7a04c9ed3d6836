// Many virtual sites' computations in one thread: one tfjs for all of them and one task at a time
// (tfjs is single-threaded anyway), each site with its own rows and caches. A virtual site's agent
// gets one of these where a real agent has its own compute thread (site-agent/compute-worker.ts).

import { FedrxError } from '../shared/errors.js';
import { isFedrxError } from '../shared/errors.js';
import type { ComputeHandlers } from '../site-agent/compute-handlers.js';
import { FALLBACK_CODE } from '../site-agent/compute-handlers.js';
import type { ComputeKind, ComputeResults, ComputeTasks, SiteCompute } from '../site-agent/compute-tasks.js';

/**
 * Runs one task at a time, in the order asked, across every site of the thread. Each task starts
 * from a fresh turn of the event loop: chained as bare promises, five hundred sites' trainings
 * would run back to back without the thread ever reading its sockets, and the coordinator would
 * take every site for dead (no answer to its heartbeats).
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(() => new Promise<void>((r) => setImmediate(r))).then(fn);
    this.tail = next.catch(() => {});
    return next;
  }
}

export class InThreadCompute implements SiteCompute {
  private closed = false;
  private readonly running = new Set<(e: FedrxError) => void>();

  constructor(
    private readonly handlers: ComputeHandlers,
    private readonly queue: SerialQueue,
    private readonly backendName: string,
  ) {}

  backend(): Promise<string> {
    return Promise.resolve(this.backendName);
  }

  run<K extends ComputeKind>(kind: K, input: ComputeTasks[K]): Promise<ComputeResults[K]> {
    if (this.closed) return Promise.reject(new FedrxError('E_TRAINING_FAILED', 'the agent is shutting down'));
    return new Promise<ComputeResults[K]>((resolve, reject) => {
      const fail = (e: FedrxError): void => reject(e);
      this.running.add(fail);
      const handler = this.handlers[kind] as (input: ComputeTasks[K]) => Promise<ComputeResults[K]>;
      this.queue
        .run(() => (this.closed ? Promise.reject(new FedrxError('E_TRAINING_FAILED', 'the agent is shutting down')) : handler(input)))
        .then(resolve, (e: unknown) => reject(isFedrxError(e) ? e : new FedrxError(FALLBACK_CODE[kind], (e as Error)?.message ?? String(e))))
        .finally(() => this.running.delete(fail));
    });
  }

  /** A task queued or running fails at once, as a real agent's would when its thread stops. */
  close(): Promise<void> {
    this.closed = true;
    for (const fail of this.running) fail(new FedrxError('E_TRAINING_FAILED', 'the agent is shutting down'));
    this.running.clear();
    return Promise.resolve();
  }
}
