// A two-tensor global model and update builders shared by the FedAvg and FedProx tests.

import type { AggregateResult, RoundContext, SiteUpdate } from '../../../coordinator/strategies/types.js';
import type { Weights } from '../../../shared/tensors.js';

export const GLOBAL_HASH = 'a'.repeat(64);

/** Run 'run-1', round 2, global w = [0,0,0], b = [0], sites A, B and C selected. */
export function ctx(): RoundContext {
  return {
    runId: 'run-1',
    round: 2,
    globalWeights: weights([0, 0, 0], [0]),
    globalHash: GLOBAL_HASH,
    selected: new Set(['A', 'B', 'C']),
  };
}

export function weights(w: number[], b: number[]): Weights {
  return [
    { name: 'w', shape: [3], data: new Float32Array(w) },
    { name: 'b', shape: [1], data: new Float32Array(b) },
  ];
}

export function update(siteId: string, numExamples: number, w: number[], b: number[]): SiteUpdate {
  return { siteId, runId: 'run-1', round: 2, baseModelHash: GLOBAL_HASH, numExamples, updateHash: 'c'.repeat(64), weights: weights(w, b) };
}

export function values(r: AggregateResult | null): number[][] {
  if (r === null) throw new Error('expected a result');
  return r.weights.map((t) => Array.from(t.data));
}
