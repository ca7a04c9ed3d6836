// A site's calibration scores as counts over fixed bins: the only thing it sends about them.
// Bin edges depend on the task alone (model-space units for regression, probabilities for
// classification), never on the data, so sketches from every site add up bin by bin, and the
// upper edge of the bin holding the k-th score is never below that score: a conservative quantile,
// above the exact one by less than one bin width.

import { FedrxError } from '../errors.js';

export interface SketchLayout {
  /** Width of each bin; bin b holds scores in (b·width, (b+1)·width], bin 0 also holds 0. */
  width: number;
  /** Number of regular bins; one more count, the last, holds every score above bins·width. */
  bins: number;
}

/**
 * Regression: |prediction − actual| in model space (the standardised, transformed target), so
 * bins are in standard deviations of that target: 0.005 SD wide up to 10 SD, then an overflow bin.
 */
export const REGRESSION_LAYOUT: SketchLayout = { width: 0.005, bins: 2000 };
/** Classification: 1 − p̂(true class) lies in [0, 1]; the overflow bin stays empty. */
export const CLASSIFICATION_LAYOUT: SketchLayout = { width: 0.001, bins: 1000 };

/** Counts a sketch holds: the regular bins and the overflow bin. */
export const sketchLength = (layout: SketchLayout): number => layout.bins + 1;

export function emptySketch(layout: SketchLayout): number[] {
  return new Array<number>(sketchLength(layout)).fill(0);
}

/** The bin of a score ≥ 0; a score above the last regular bin goes to the overflow bin. */
export function binOf(layout: SketchLayout, score: number): number {
  if (!(score >= 0)) throw new RangeError(`a nonconformity score is a number ≥ 0, got ${score}`);
  let b = Math.max(0, Math.ceil(score / layout.width) - 1);
  // Division may round down across an edge: the bin's upper edge must never be below the score.
  if (score > upperEdge(layout, b)) b++;
  return Math.min(b, layout.bins);
}

/** Upper edge of bin b; the overflow bin has none (Infinity). */
export function upperEdge(layout: SketchLayout, b: number): number {
  return b >= layout.bins ? Infinity : (b + 1) * layout.width;
}

/** Adds one score to `counts` (in place: a site sums thousands of rows into one sketch). */
export function addScore(counts: number[], layout: SketchLayout, score: number): void {
  counts[binOf(layout, score)]!++;
}

/** Bin-by-bin sum of sketches of the same layout. */
export function mergeSketches(layout: SketchLayout, sketches: readonly (readonly number[])[]): number[] {
  const total = emptySketch(layout);
  for (const s of sketches) {
    if (s.length !== total.length) throw new RangeError(`a sketch of ${s.length} counts cannot merge into ${total.length}`);
    for (let b = 0; b < s.length; b++) total[b]! += s[b]!;
  }
  return total;
}

/**
 * Conservative k-th smallest score (1-based): the upper edge of the bin where the running count
 * reaches k. Infinity when k exceeds the scores counted, or falls in the overflow bin.
 */
export function sketchQuantile(layout: SketchLayout, counts: readonly number[], rank: number): number {
  let seen = 0;
  for (let b = 0; b < counts.length; b++) {
    seen += counts[b]!;
    if (seen >= rank) return upperEdge(layout, b);
  }
  return Infinity;
}

/**
 * A sketch from a site (attacker-controlled): the layout's length, whole counts ≥ 0 that add up to
 * the calibration rows it claims. E_BAD_SKETCH names what is wrong, never a count.
 */
export function checkSketch(layout: SketchLayout, counts: readonly number[], rows: number): void {
  if (counts.length !== sketchLength(layout)) {
    throw new FedrxError('E_BAD_SKETCH', `the calibration sketch has ${counts.length} counts, this task's layout has ${sketchLength(layout)}`);
  }
  let total = 0;
  for (const c of counts) {
    if (!Number.isSafeInteger(c) || c < 0) throw new FedrxError('E_BAD_SKETCH', 'the calibration sketch holds a count that is not a whole number ≥ 0');
    total += c;
  }
  if (total !== rows) throw new FedrxError('E_BAD_SKETCH', `the calibration sketch counts ${total} scores for ${rows} calibration rows`);
}
