// What the site computes, one handler per task kind of compute-tasks.ts, over one site's rows and
// one tfjs instance. The agent's compute thread (compute-thread.ts) runs them for its site; the
// simulator's site pools run them for many virtual sites in one thread.

import { FedrxError, type ErrorCode } from '../shared/errors.js';
import { statsOf } from '../shared/feature-stats.js';
import { denseLayers } from '../shared/model-spec.js';
import { DEFAULT_MIN_ROWS, inputDim, outputDim, type Study } from '../shared/study.js';
import type { Preprocessing } from '../shared/feature-stats.js';
import { newtonTerms } from '../shared/exact/logistic.js';
import { secretNormal } from '../shared/exact/gram-factor.js';
import { exactStatistics } from './exact-stats.js';
import { crossProducts, gramProduct } from './exact-products.js';
import type { Tf } from './backend.js';
import type { ComputeKind, ComputeResults, ComputeTasks } from './compute-tasks.js';
import type { SiteData } from './site-data.js';
import { evaluateLocal, trainLocal, type EvalScore } from './trainer.js';
import type { DataPart } from './local-data.js';

export type ComputeHandlers = { [K in ComputeKind]: (input: ComputeTasks[K]) => Promise<ComputeResults[K]> };

export function computeHandlers(tf: Tf, data: SiteData, siteId: string): ComputeHandlers {
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
export const FALLBACK_CODE: Record<ComputeKind, ErrorCode> = { stats: 'E_INTERNAL', train: 'E_TRAINING_FAILED', evaluate: 'E_INTERNAL', exactStats: 'E_INTERNAL', exactOpen: 'E_INTERNAL', exactStep: 'E_INTERNAL' };

