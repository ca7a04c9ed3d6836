// The agent's compute thread: everything CPU-heavy at the site (reading and encoding the CSV,
// statistics, training, evaluation) runs here, off the event loop that holds the coordinator's
// connection, so heartbeats and ledger entries are answered while a round trains.
// Started by compute-worker.ts through compute-thread-entry.mjs; one task at a time.

import { parentPort, workerData } from 'node:worker_threads';
import { FedrxError, isFedrxError, type ErrorCode } from '../shared/errors.js';
import { statsOf } from '../shared/feature-stats.js';
import { denseLayers } from '../shared/model-spec.js';
import { inputDim, outputDim } from '../shared/study.js';
import { loadTf, type Tf } from './backend.js';
import { buffersOf, type ComputeKind, type ComputeResults, type ComputeTasks, type ComputeThreadData, type FromThread, type ToThread } from './compute-tasks.js';
import { SiteData } from './site-data.js';
import { evaluateLocal, trainLocal, type EvalScore } from './trainer.js';
import type { DataPart } from './local-data.js';

type Handlers = { [K in ComputeKind]: (input: ComputeTasks[K]) => Promise<ComputeResults[K]> };

function handlers(tf: Tf, data: SiteData): Handlers {
  return {
    async stats({ study }) {
      const rows = await data.rowsFor(study);
      // Keyed by this site's own matches of any feature groups: the coordinator fixes the run's list from them.
      return { stats: statsOf(rows.study, rows.train), trainRows: rows.train.length };
    },
    async train({ study, prep, global, settings, proximalMu }) {
      const parts = await data.partsFor(study, prep);
      const layers = denseLayers(study.model, inputDim(study), outputDim(study));
      return trainLocal(tf, study, layers, global, parts.train, settings, proximalMu);
    },
    async evaluate({ study, prep, global }) {
      const parts = await data.partsFor(study, prep);
      const layers = denseLayers(study.model, inputDim(study), outputDim(study));
      const scoreOf = (part: DataPart, name: string): EvalScore => {
        const score = evaluateLocal(tf, study, prep, layers, global, part);
        if (!Number.isFinite(score.loss) || !Object.values(score.sums).every(Number.isFinite)) {
          throw new FedrxError('E_NON_FINITE', `the model gives a non-finite loss or metric on the ${name} rows`);
        }
        return score;
      };
      return { score: scoreOf(parts.test, 'held-out'), validation: parts.validation === null ? null : scoreOf(parts.validation, 'validation') };
    },
  };
}

/** Uncoded failures get the code the agent would report for that kind of task. */
const FALLBACK: Record<ComputeKind, ErrorCode> = { stats: 'E_INTERNAL', train: 'E_TRAINING_FAILED', evaluate: 'E_INTERNAL' };

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
  const run = handlers(tf, data) as { [K in ComputeKind]: (input: ComputeTasks[ComputeKind]) => Promise<ComputeResults[ComputeKind]> };
  // Tasks are queued so that each sees the caches the previous one left.
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (msg: ToThread) => {
    queue = queue.then(async () => {
      try {
        const result = await run[msg.kind](msg.input);
        post({ type: 'done', id: msg.id, result }, 'weights' in result ? buffersOf(result.weights) : []);
      } catch (e) {
        const code = isFedrxError(e) ? e.code : FALLBACK[msg.kind];
        post({ type: 'failed', id: msg.id, code, message: (e as Error)?.message ?? String(e) });
      }
    });
  });
  post({ type: 'ready', backend });
}

if (parentPort === null) throw new Error('compute-thread.ts runs as a worker thread');
await main(parentPort);
