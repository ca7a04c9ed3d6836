// The L2 penalties a run tries: the study's `model.l2` (or `run start --l2`), made concrete.

import { FedrxError } from '../errors.js';
import type { ModelSpec } from '../model-spec.js';

export type L2Spec = NonNullable<ModelSpec['l2']>;

/** 'auto': 13 half-decades around the data's own scale (see autoGrid). */
export const AUTO_GRID_POINTS = 13;
export const MAX_GRID = 64;

/** True when the spec asks the run to choose among several penalties. */
export function isSearch(l2: L2Spec | undefined): boolean {
  return l2 === 'auto' || (Array.isArray(l2) && l2.length > 1);
}

/** The penalties to try; 'auto' needs the data's scale (RidgePath.meanEigenvalue) and its row count. */
export function penaltyGrid(l2: L2Spec | undefined, scale?: { meanEigenvalue: number; n: number }): number[] {
  if (l2 === undefined) return [0];
  if (typeof l2 === 'number') return [checkPenalty(l2)];
  if (Array.isArray(l2)) {
    if (l2.length === 0 || l2.length > MAX_GRID) throw new FedrxError('E_BAD_PENALTY', `a penalty grid needs 1 to ${MAX_GRID} values, got ${l2.length}`);
    return [...new Set(l2.map(checkPenalty))].sort((a, b) => a - b);
  }
  if (scale === undefined) throw new FedrxError('E_INTERNAL', "the 'auto' grid needs the data's scale");
  // α = nλ/2 from 10⁻³ to 10³ times the mean eigenvalue of the centred Gram matrix.
  const centre = (2 * scale.meanEigenvalue) / scale.n;
  return Array.from({ length: AUTO_GRID_POINTS }, (_, i) => centre * 10 ** (-3 + i / 2));
}

/** The one penalty of a solve that takes no search (a value or a one-element list; none is 0). */
export function singlePenalty(l2: L2Spec | undefined): number {
  return Array.isArray(l2) ? l2[0]! : typeof l2 === 'number' ? l2 : 0;
}

export function checkPenalty(v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new FedrxError('E_BAD_PENALTY', `an L2 penalty must be a finite number ≥ 0, got ${String(v)}`);
  return v;
}

/** Parses `--l2 VALUE|V1,V2,…|auto` from the command line. */
export function parseL2(text: string): L2Spec {
  const t = text.trim();
  if (t === 'auto') return 'auto';
  const parts = t.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((s) => s === '')) throw new FedrxError('E_BAD_PENALTY', `--l2 wants a number, a comma-separated list or 'auto', got "${text}"`);
  const values = parts.map((s) => checkPenalty(Number(s)));
  if (values.length > MAX_GRID) throw new FedrxError('E_BAD_PENALTY', `a penalty grid holds at most ${MAX_GRID} values, got ${values.length}`);
  return values.length === 1 ? values[0]! : values;
}
