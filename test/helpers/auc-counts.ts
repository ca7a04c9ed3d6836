import { countInto, emptyAucCounts, type AucCounts } from '../../shared/auc.js';

/** AUC counts of binary rows given as [P(second class), true class]. */
export function binaryCounts(rows: [number, number][]): AucCounts {
  const c = emptyAucCounts(2);
  for (const [p, y] of rows) countInto(c, [1 - p, p], y);
  return c;
}
