// Checks one site's exact-fit statistics before they are used. The frame is attacker-controlled:
// its size was bounded by the codec; here every block must have the shape the site's declared
// fold sizes imply, hold only finite values, and its ones column must add up to those sizes.

import { FedrxError } from '../../../shared/errors.js';
import type { SiteFactors } from '../../../shared/exact/ridge-select.js';
import { hashStatistics64 } from '../../../shared/model-hash.js';
import type { NamedTensor64 } from '../../../shared/tensors.js';
import type { ExactStatsHeader } from '../../../shared/wire.js';

export interface ExactStatsExpectation {
  /** Input features of the study. */
  width: number;
  folds: number;
  minRows: number;
}

/** Bytes of a site's exact-stats data for these fold sizes: what a frame-size cap must allow (plus the header). */
export function exactStatsBytes(width: number, foldRows: readonly number[]): number {
  return foldRows.reduce((s, n) => s + Math.min(n, width + 2) * (width + 2) * 8, 0);
}

export function checkExactStats(header: ExactStatsHeader, tensors: readonly NamedTensor64[], want: ExactStatsExpectation): SiteFactors {
  const w = want.width + 2;
  const { foldRows } = header;
  if (foldRows.length !== want.folds) throw new FedrxError('E_SHAPE_MISMATCH', `${foldRows.length} folds, the run asked for ${want.folds}`);
  const total = foldRows.reduce((s, n) => s + n, 0);
  if (total !== header.numExamples) throw new FedrxError('E_BAD_EXAMPLES', `fold sizes add up to ${total}, numExamples is ${header.numExamples}`);
  if (total < want.minRows) throw new FedrxError('E_STATS_TOO_FEW_ROWS', `statistics over ${total} rows, the study needs at least ${want.minRows}: not used`);
  if (tensors.length !== want.folds) throw new FedrxError('E_SHAPE_MISMATCH', `${tensors.length} tensors for ${want.folds} folds`);
  tensors.forEach((t, f) => {
    const rows = Math.min(foldRows[f]!, w);
    if (t.name !== `fold${f}` || t.shape.length !== 2 || t.shape[0] !== rows || t.shape[1] !== w) {
      throw new FedrxError('E_SHAPE_MISMATCH', `tensor ${f} is ${t.name} [${t.shape.join(',')}], expected fold${f} [${rows},${w}]`);
    }
    let ones = 0;
    for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i]!)) throw new FedrxError('E_NON_FINITE', `fold${f} holds a non-finite value`);
    for (let r = 0; r < rows; r++) ones += t.data[r * w + want.width]! ** 2;
    if (Math.abs(ones - foldRows[f]!) > 1e-6 * Math.max(1, foldRows[f]!)) {
      throw new FedrxError('E_BAD_EXAMPLES', `fold${f} holds statistics of ${ones.toFixed(3)} rows, the header says ${foldRows[f]}`);
    }
  });
  if (hashStatistics64(tensors) !== header.updateHash) throw new FedrxError('E_HASH_MISMATCH', 'updateHash does not match the statistics bytes');
  return { siteId: header.siteId, folds: tensors.map((t) => t.data) };
}
