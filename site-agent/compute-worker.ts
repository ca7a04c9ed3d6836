// The agent's side of its compute thread: starts it (tfjs initialises there, once), hands it one
// task at a time and waits for the answer. A thread that dies, whatever the reason, fails the
// task it was on with E_TRAINING_FAILED and is started again for the next task: the agent itself
// and its connection live on.

import { Worker } from 'node:worker_threads';
import { FedrxError } from '../shared/errors.js';
import { cloneWeights } from '../shared/tensors.js';
import { buffersOf, type ComputeKind, type ComputeResults, type ComputeTasks, type ComputeThreadData, type FromThread, type SiteCompute, type ToThread } from './compute-tasks.js';

export const COMPUTE_THREAD_ENTRY = new URL('./compute-thread-entry.mjs', import.meta.url);

interface Pending {
  kind: ComputeKind;
  resolve: (result: ComputeResults[ComputeKind]) => void;
  reject: (e: FedrxError) => void;
}

interface Thread {
  worker: Worker;
  backend: string;
}

export class ComputeWorker implements SiteCompute {
  private thread: Promise<Thread> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  /** `entry`: the thread's script; tests give a stand-in. */
  private constructor(
    private readonly data: ComputeThreadData,
    private readonly log: (line: string) => void,
    private readonly entry: URL,
  ) {}

  /** Starts the thread and waits until its tfjs backend is ready; throws if it cannot start. */
  static async start(data: ComputeThreadData, log: (line: string) => void, entry: URL = COMPUTE_THREAD_ENTRY): Promise<ComputeWorker> {
    const w = new ComputeWorker(data, log, entry);
    await w.ensureThread();
    return w;
  }

  /** tfjs backend of the running thread ('wasm', 'cpu' or 'tensorflow'). */
  async backend(): Promise<string> {
    return (await this.ensureThread()).backend;
  }

  async run<K extends ComputeKind>(kind: K, input: ComputeTasks[K]): Promise<ComputeResults[K]> {
    if (this.closed) throw new FedrxError('E_TRAINING_FAILED', 'the agent is shutting down');
    const { worker } = await this.ensureThread();
    const id = this.nextId++;
    return new Promise<ComputeResults[K]>((resolve, reject) => {
      this.pending.set(id, { kind, resolve: resolve as Pending['resolve'], reject });
      // The global model is copied once into buffers of its own (a decoded frame's tensors are
      // views of one large buffer, which would be cloned whole per tensor), then moved over.
      const global = 'global' in input ? cloneWeights(input.global) : null;
      const msg = { id, kind, input: global === null ? input : { ...input, global } } as ToThread;
      worker.postMessage(msg, global === null ? [] : buffersOf(global));
    });
  }

  /** Stops the thread; a task still running fails. */
  async close(): Promise<void> {
    this.closed = true;
    const t = this.thread;
    this.thread = null;
    if (t !== null) await (await t.catch(() => null))?.worker.terminate();
    this.failAll('the agent is shutting down');
  }

  private ensureThread(): Promise<Thread> {
    this.thread ??= this.spawn().catch((e: unknown) => {
      this.thread = null; // the next task tries again
      throw e;
    });
    return this.thread;
  }

  private spawn(): Promise<Thread> {
    const worker = new Worker(this.entry, { workerData: this.data });
    return new Promise<Thread>((resolve, reject) => {
      let ready = false;
      worker.on('message', (msg: FromThread) => {
        switch (msg.type) {
          case 'ready':
            ready = true;
            resolve({ worker, backend: msg.backend });
            return;
          case 'start-failed':
            reject(new FedrxError(msg.code, msg.message));
            void worker.terminate();
            return;
          case 'log':
            this.log(msg.line);
            return;
          case 'done':
          case 'failed': {
            const p = this.pending.get(msg.id);
            this.pending.delete(msg.id);
            if (msg.type === 'done') p?.resolve(msg.result);
            else p?.reject(new FedrxError(msg.code, msg.message));
            return;
          }
        }
      });
      // An uncaught exception in the thread ('error') is followed by its exit.
      let why = '';
      worker.on('error', (e) => {
        why = e.message;
      });
      worker.on('exit', (code) => {
        const reason = `the compute thread stopped (exit code ${code}${why === '' ? '' : `: ${why}`})`;
        if (!ready) {
          reject(new FedrxError('E_TRAINING_FAILED', reason)); // no effect after a start-failed
          return;
        }
        if (this.closed) return;
        this.log(`${reason}; it is restarted for the next task`);
        this.thread = null;
        this.failAll(reason);
      });
    });
  }

  private failAll(reason: string): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new FedrxError('E_TRAINING_FAILED', `${p.kind}: ${reason}`));
    }
  }
}
