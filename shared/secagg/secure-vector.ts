// What a site puts in the ring, and what the coordinator makes of the sum. The vector is
//   [ r·(w − g) for every weight, clipped and quantised | r, quantised | numExamples ]
// with r = numExamples / maxWeight ∈ (0, 1] (FedAvg's weighting, bounded), or r = 1 when every
// site counts alike (differential privacy). The sum over m sites gives Σ r·Δ, Σ r and Σ n, hence
// Σ r·w = Σ r·Δ + (Σ r)·g: the weighted sum a strategy folds (Aggregator.acceptSum).

import type { Weights } from '../tensors.js';
import type { SecureParams } from './params.js';
import { dequantiseSum, dequantiseUnitSum, quantiseInto, quantiseUnit } from './quantise.js';

/** Coordinates of the vector for a model of `params` weights: the weights, the weight, the count. */
export const secureLength = (params: number): number => params + 2;

export function encodeSecureVector(global: Weights, local: Weights, weight: number, numExamples: number, p: SecureParams, uniform: () => number): { vector: Uint32Array; clipped: number } {
  const size = global.reduce((n, t) => n + t.data.length, 0);
  const vector = new Uint32Array(secureLength(size));
  let at = 0;
  let clipped = 0;
  for (let k = 0; k < global.length; k++) {
    const g = global[k]!.data;
    const w = local[k]!.data;
    const scaled = new Float64Array(g.length);
    for (let i = 0; i < g.length; i++) scaled[i] = weight * (w[i]! - g[i]!);
    clipped += quantiseInto(scaled, p.clip, p.quantBits, uniform, vector, at);
    at += g.length;
  }
  vector[at] = quantiseUnit(weight, p.quantBits, uniform);
  vector[at + 1] = numExamples;
  return { vector, clipped };
}

export interface DecodedSum {
  /** Σ r·w per tensor, float64. */
  sums: Float64Array[];
  totalWeight: number;
  examples: number;
}

/** The sum of `m` sites' vectors (unmasked) as weighted sums of weights around `global`. */
export function decodeSecureSum(sum: Uint32Array, m: number, global: Weights, p: SecureParams): DecodedSum {
  const size = global.reduce((n, t) => n + t.data.length, 0);
  const totalWeight = dequantiseUnitSum(sum[size]!, p.quantBits);
  // dequantiseSum(level, m, clip, bits) = level·scale − m·clip, hoisted out of the loop.
  const scale = dequantiseSum(1, 0, p.clip, p.quantBits);
  const offset = dequantiseSum(0, m, p.clip, p.quantBits);
  const sums: Float64Array[] = [];
  let at = 0;
  for (const t of global) {
    const g = t.data;
    const out = new Float64Array(g.length);
    for (let i = 0; i < out.length; i++) out[i] = sum[at + i]! * scale + offset + totalWeight * g[i]!;
    sums.push(out);
    at += g.length;
  }
  return { sums, totalWeight, examples: sum[size + 1]! };
}
