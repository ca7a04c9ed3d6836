// The agent's compute thread: everything CPU-heavy at the site (reading and encoding the CSV,
// statistics, training, evaluation) runs here, off the event loop that holds the coordinator's
// connection, so heartbeats and ledger entries are answered while a round trains.
// Started by compute-worker.ts through compute-thread-entry.mjs; one task at a time.

import { parentPort, workerData } from 'node:worker_threads';
import { isFedrxError } from '../shared/errors.js';
import { loadTf, type Tf } from './backend.js';
import { buffersOf, type ComputeKind, type ComputeResults, type ComputeTasks, type ComputeThreadData, type FromThread, type ToThread } from './compute-tasks.js';
import { computeHandlers, FALLBACK_CODE } from './compute-handlers.js';
import { SiteData } from './site-data.js';

async function main(port: NonNullable<typeof parentPort>): Promise<void> {
  const post = (msg: FromThread, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer);
  const log = (line: string): void => post({ type: 'log', line });
  const opts = workerData as ComputeThreadData;
  let tf: Tf;
  let backend: string;
  try {
    ({ tf, backend } = await loadTf(log));
  } catch (e) {
    post({ type: 'start-failed', code: isFedrxError(e) ? e.code : 'E_INTERNAL', message: (e as Error).message });
    return;
  }
  const data = new SiteData(opts.dataFile, { siteId: opts.siteId, dropBadRows: opts.dropBadRows, ...(opts.columnMap ? { columnMap: opts.columnMap } : {}) }, log);
  const run = computeHandlers(tf, data, opts.siteId) as { [K in ComputeKind]: (input: ComputeTasks[ComputeKind]) => Promise<ComputeResults[ComputeKind]> };
  // Tasks are queued so that each sees the caches the previous one left.
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (msg: ToThread) => {
    queue = queue.then(async () => {
      try {
        const result = await run[msg.kind](msg.input);
        post({ type: 'done', id: msg.id, result }, 'weights' in result ? buffersOf(result.weights) : []);
      } catch (e) {
        const code = isFedrxError(e) ? e.code : FALLBACK_CODE[msg.kind];
        post({ type: 'failed', id: msg.id, code, message: (e as Error)?.message ?? String(e) });
      }
    });
  });
  post({ type: 'ready', backend });
}

if (parentPort === null) throw new Error('compute-thread.ts runs as a worker thread');
await main(parentPort);
