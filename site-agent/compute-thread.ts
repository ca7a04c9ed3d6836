// The agent's compute thread: everything CPU-heavy at the site (reading and encoding the CSV,
// statistics, training, evaluation) runs here, off the event loop that holds the coordinator's
// connection, so heartbeats and ledger entries are answered while a round trains.
// Started by compute-worker.ts through compute-thread-entry.mjs; one task at a time.

import { parentPort, workerData } from 'node:worker_threads';
import { FedrxError, isFedrxError, type ErrorCode } from '../shared/errors.js';
import { statsOf } from '../shared/feature-stats.js';
import { denseLayers } from '../shared/model-spec.js';
import { DEFAULT_MIN_ROWS, inputDim, outputDim, type Study } from '../shared/study.js';
import type { Preprocessing } from '../shared/feature-stats.js';
import { newtonTerms } from '../shared/exact/logistic.js';
import { secretNormal } from '../shared/exact/gram-factor.js';
import { exactStatistics } from './exact-stats.js';
import { crossProducts, gramProduct } from './exact-products.js';
import { loadTf, type Tf } from './backend.js';
import { buffersOf, type ComputeKind, type ComputeResults, type ComputeTasks, type ComputeThreadData, type FromThread, type ToThread } from './compute-tasks.js';
import { SiteData } from './site-data.js';
import { evaluateLocal, trainLocal, type EvalScore } from './trainer.js';
import type { DataPart } from './local-data.js';

type Handlers = { [K in ComputeKind]: (input: ComputeTasks[K]) => Promise<ComputeResults[K]> };

function handlers(tf: Tf, data: SiteData, siteId: string): Handlers {
  /** The training rows of the open product solve (exact fits too wide for factored statistics). */
  let solve: { mode: 'products' | 'newton'; train: DataPart; width: number } | null = null;
  const trainingRows = async (study: Study, prep: Preprocessing): Promise<DataPart> => {
    const { train } = await data.partsFor(study, prep);
    const minRows = study.minRows ?? DEFAULT_MIN_ROWS;
    if (train.n < minRows) throw new FedrxError('E_CSV_TOO_FEW_ROWS', `${train.n} training rows, the study needs at least ${minRows}`);
    return train;
  };
  const productAt = (s: NonNullable<typeof solve>, p: Float64Array): Float64Array =>
    s.mode === 'products' ? gramProduct(s.train, s.width, p) : newtonTerms(s.train.x, s.train.y, s.train.n, s.width, p, secretNormal());
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
      const scoreOf = (part: DataPart, name: string, withSketch = false): EvalScore => {
        const score = evaluateLocal(tf, study, prep, layers, global, part, withSketch);
        if (!Number.isFinite(score.loss) || !Object.values(score.sums).every(Number.isFinite)) {
          throw new FedrxError('E_NON_FINITE', `the model gives a non-finite loss or metric on the ${name} rows`);
        }
        return score;
      };
      // The validation part calibrates when there is one (scored anyway); else the calibration share.
      const validation = parts.validation === null ? null : scoreOf(parts.validation, 'validation', true);
      const calibration = validation ?? (parts.calibration === null ? null : scoreOf(parts.calibration, 'calibration', true));
      return {
        score: scoreOf(parts.test, 'held-out'), // with groups, when the study has a groupBy
        validation: validation === null ? null : { numExamples: validation.numExamples, loss: validation.loss, sums: validation.sums },
        calibration: calibration === null ? null : { numExamples: calibration.numExamples, counts: calibration.sketch! },
      };
    },
    async exactStats({ study, prep, folds, seed }) {
      const train = await trainingRows(study, prep);
      const stats = exactStatistics(train, inputDim(study), folds, seed, siteId, secretNormal());
      return { ...stats, n: train.n };
    },
    async exactOpen({ study, prep, mode }) {
      const train = await trainingRows(study, prep);
      const width = inputDim(study);
      solve = { mode, train, width };
      const v = mode === 'products' ? crossProducts(train, width) : productAt(solve, new Float64Array(width + 1));
      return { v, n: train.n, width };
    },
    async exactStep({ p }) {
      if (solve === null) throw new FedrxError('E_STALE_ROUND', 'no product solve is open here');
      return { v: productAt(solve, p) };
    },
  };
}

/** Uncoded failures get the code the agent would report for that kind of task. */
const FALLBACK: Record<ComputeKind, ErrorCode> = { stats: 'E_INTERNAL', train: 'E_TRAINING_FAILED', evaluate: 'E_INTERNAL', exactStats: 'E_INTERNAL', exactOpen: 'E_INTERNAL', exactStep: 'E_INTERNAL' };

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
  const run = handlers(tf, data, opts.siteId) as { [K in ComputeKind]: (input: ComputeTasks[ComputeKind]) => Promise<ComputeResults[ComputeKind]> };
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
