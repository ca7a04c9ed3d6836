// Turns raw feature values into model inputs with the run's preprocessing, and model outputs
// back into the target's unit. Used by every site on its own rows and by the coordinator on a
// clinician's query, so both apply exactly the same transformation. Pure.

import { FedrxError } from './errors.js';
import { EncodeProblem, extractRow, inverseTransform, type ExtractedRow, type RawRecord } from './extract.js';
import type { Preprocessing } from './feature-stats.js';
import { featureWidth, inputDim, isLevelFeature, type RegressionTarget, type Study } from './study.js';

export { EncodeProblem, type RawRecord, type RawValue } from './extract.js';

/** Model inputs of one row, written into `out` at `offset` (row-major batches). */
export function encodeInputs(study: Study, prep: Preprocessing, row: ExtractedRow, out: Float32Array, offset = 0): void {
  inputEncoder(study, prep)(row, out, offset);
}

/**
 * `encodeInputs` with the per-feature lookups done once: for encoding many rows of a wide study.
 * Throws E_INTERNAL at once if the preprocessing lacks a numeric feature.
 */
export function inputEncoder(study: Study, prep: Preprocessing): (row: ExtractedRow, out: Float32Array, offset?: number) => void {
  const n = study.features.length;
  const mean = new Float64Array(n);
  const sd = new Float64Array(n);
  const width = new Int32Array(n);
  study.features.forEach((f, i) => {
    width[i] = featureWidth(f);
    if (f.kind !== 'numeric') return;
    const s = prep.numeric[f.name];
    if (s === undefined) throw new FedrxError('E_INTERNAL', `preprocessing lacks feature ${f.name}`);
    mean[i] = s.mean;
    sd[i] = s.sd;
  });
  return (row, out, offset = 0) => {
    let at = offset;
    for (let i = 0; i < n; i++) {
      const f = study.features[i]!;
      const v = row.values[i]!;
      if (f.kind === 'numeric') {
        // A missing value (NaN) is imputed with the federated mean, i.e. 0 after standardising.
        out[at] = Number.isNaN(v) ? 0 : (v - mean[i]!) / sd[i]!;
      } else if (isLevelFeature(f)) {
        for (let j = 1; j < f.levels.length; j++) out[at + j - 1] = j === v ? 1 : 0;
      } else {
        out[at] = v;
      }
      at += width[i]!;
    }
  };
}

/** Training target in model space: the transformed value standardised, or the class index. */
export function encodeTarget(prep: Preprocessing, row: ExtractedRow): number {
  return prep.target === undefined ? row.target : (row.target - prep.target.mean) / prep.target.sd;
}

/** Model output (standardised, transformed) back to the target's own unit, e.g. mg/week. */
export function decodeRegression(t: RegressionTarget, prep: Preprocessing, z: number): number {
  const s = prep.target ?? { mean: 0, sd: 1 };
  return inverseTransform(t, z * s.sd + s.mean);
}

/** For a clinician's query: inputs, or a coded error naming the feature's column. */
export function encodeQuery(study: Study, prep: Preprocessing, record: RawRecord): Float32Array {
  const row = extractRow(study, record, false);
  if (row instanceof EncodeProblem) throw queryError(row);
  const out = new Float32Array(inputDim(study));
  encodeInputs(study, prep, row, out);
  return out;
}

/** Why a query's row cannot be scored, as the coded error a clinician sees: it names the column, never the value. */
export function queryError(p: EncodeProblem): FedrxError {
  return new FedrxError(p.kind === 'missing' ? 'E_MISSING_FEATURE' : 'E_BAD_FEATURE', p.describe(), { feature: p.column, problem: p.kind });
}
