// The exact ridge fit of a federation: choose λ by k-fold validation over every site's folds,
// then refit on all training rows. Each fold's error is computed from that fold's factored
// statistics alone (SSE_f = ‖F_f·[w; b; −1]‖²), so every candidate is scored exactly, without
// another round trip to the sites.

import { FedrxError } from '../errors.js';
import { penaltyGrid, type L2Spec } from './penalty.js';
import { RidgePath, sumSquaredError, type RidgeFit } from './ridge-path.js';

/** One site's factors, one block per validation fold (a single block when no search is asked). */
export interface SiteFactors {
  siteId: string;
  folds: Float64Array[];
}

export interface PenaltySelection {
  grid: number[];
  /** Example-weighted mean squared error over every fold of every site, per candidate (model space). */
  scores: number[];
  chosen: number;
  folds: number;
}

/** Lets sockets be served between the seconds-long decompositions (heartbeats, other messages). */
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function exactRidge(
  sites: readonly SiteFactors[],
  d: number,
  l2: L2Spec | undefined,
  progress: (line: string) => void = () => {},
): Promise<{ fit: RidgeFit; selection: PenaltySelection | null }> {
  if (sites.length === 0) throw new FedrxError('E_INTERNAL', 'no statistics to fit');
  const k = sites[0]!.folds.length;
  if (sites.some((s) => s.folds.length !== k)) throw new FedrxError('E_SHAPE_MISMATCH', 'sites sent different numbers of folds');
  const full = new RidgePath(sites.flatMap((s) => s.folds), d);
  const grid = penaltyGrid(l2, { meanEigenvalue: full.meanEigenvalue(), n: full.n });
  if (grid.length === 1) return { fit: full.solve(grid[0]!), selection: null };
  if (k < 2) throw new FedrxError('E_BAD_PENALTY', 'a penalty search needs at least 2 folds');
  const sse = new Float64Array(grid.length);
  let n = 0;
  for (let f = 0; f < k; f++) {
    await yieldToLoop();
    const started = performance.now();
    const path = new RidgePath(sites.flatMap((s) => s.folds.filter((_, i) => i !== f)), d);
    const held = sites.map((s) => s.folds[f]!);
    grid.forEach((lambda, i) => {
      const r = sumSquaredError(held, d, path.solve(lambda));
      sse[i]! += r.sse;
      if (i === 0) n += r.n;
    });
    progress(`fold ${f + 1}/${k}: ${grid.length} penalties scored in ${Math.round(performance.now() - started)} ms`);
  }
  const scores = [...sse].map((s) => s / n);
  let chosen = 0;
  scores.forEach((s, i) => {
    if (s < scores[chosen]!) chosen = i;
  });
  return { fit: full.solve(grid[chosen]!), selection: { grid, scores, chosen, folds: k } };
}
