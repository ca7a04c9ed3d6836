// The in-process comparators of the IWPC benchmark: the centralised ceiling (one model on every
// site's training rows pooled, same model and same preprocessing recipe) and each site's
// local-only model. Both use the site agent's own trainer, so only the data flow differs.

import type { IwpcRecord } from '../datasets/iwpc.js';
import { EncodeProblem, extractRow, type ExtractedRow } from '../shared/extract.js';
import { preprocessingOfRows, type Preprocessing } from '../shared/feature-stats.js';
import { forward } from '../shared/forward.js';
import { initialWeights } from '../shared/model-init.js';
import { denseLayers } from '../shared/model-spec.js';
import { decodeRegression, encodeInputs } from '../shared/preprocess.js';
import type { TrainingSettings } from '../shared/run-config.js';
import { inputDim, isRegression, outputDim, type Study } from '../shared/study.js';
import type { Weights } from '../shared/tensors.js';
import type { Tf } from '../site-agent/backend.js';
import { encodePart } from '../site-agent/local-data.js';
import { trainLocal } from '../site-agent/trainer.js';

const MIN_STEPS = 4000;

export interface FittedModel {
  prep: Preprocessing;
  weights: Weights;
}

export function extractAll(study: Study, records: readonly IwpcRecord[]): ExtractedRow[] {
  return records.map((r) => {
    const row = extractRow(study, r);
    if (row instanceof EncodeProblem) throw new Error(`benchmark row refused: ${row.describe()}`);
    return row;
  });
}

/** Trains from the run's seeded initial weights on `records`, with statistics of those rows. */
export async function fitModel(tf: Tf, study: Study, records: readonly IwpcRecord[], settings: TrainingSettings): Promise<FittedModel> {
  const rows = extractAll(study, records);
  const prep = preprocessingOfRows(study, rows);
  const layers = denseLayers(study.model, inputDim(study), outputDim(study));
  const init = initialWeights(study.model, inputDim(study), outputDim(study), settings.seed);
  // Train to convergence whatever the size: at least `minSteps` optimiser steps, so a small site's
  // model is its own best fit (local least squares for the linear model), not an early-stopped one.
  const batches = Math.ceil(rows.length / settings.batchSize);
  const localEpochs = Math.max(settings.localEpochs, Math.ceil(MIN_STEPS / batches));
  const { weights } = await trainLocal(tf, study, layers, init, encodePart(study, prep, rows), { ...settings, localEpochs });
  return { prep, weights };
}

/** Dose in mg/week for one raw record. */
export function predictDose(study: Study, model: FittedModel, record: IwpcRecord): number {
  return predictRowDose(study, model, extractTestRow(study, record));
}

/** A test record as the model reads it (extract once, predict each round). */
export function extractTestRow(study: Study, record: IwpcRecord): ExtractedRow {
  const row = extractRow(study, record, false);
  if (row instanceof EncodeProblem) throw new Error(`benchmark row refused: ${row.describe()}`);
  return row;
}

/** Dose in mg/week for one extracted row. */
export function predictRowDose(study: Study, model: FittedModel, row: ExtractedRow): number {
  if (!isRegression(study)) throw new Error('the IWPC benchmark is a regression study');
  const x = new Float32Array(inputDim(study));
  encodeInputs(study, model.prep, row, x);
  const out = forward(denseLayers(study.model, inputDim(study), outputDim(study)), model.weights, x);
  return decodeRegression(study.target, model.prep, out[0]!);
}
