// Client-level DP-FedAvg (McMahan et al. 2018), a site's side: its update's change from the global
// model clipped to an L2 norm of C, plus the Gaussian noise its share of the sum calls for (none in a
// plain run, where the coordinator adds all of it). Pure: the noise source is passed in.

import type { Weights } from '../tensors.js';

export interface PrivateUpdateSettings {
  /** L2 bound C on the change ‖local − global‖₂ over every tensor together. */
  clip: number;
  /** Standard deviation of the Gaussian noise added to every coordinate (0: none). */
  noiseStd: number;
}

/** ‖local − global‖₂ over every tensor, in float64. */
export function deltaNorm(global: Weights, local: Weights): number {
  let ss = 0;
  global.forEach((g, k) => {
    const l = local[k]!.data;
    for (let i = 0; i < g.data.length; i++) {
      const d = l[i]! - g.data[i]!;
      ss += d * d;
    }
  });
  return Math.sqrt(ss);
}

/** global + clip_C(local − global) + N(0, noiseStd²) per coordinate; same names and shapes as `global`. */
export function privatiseUpdate(global: Weights, local: Weights, settings: PrivateUpdateSettings, normal: () => number): Weights {
  const norm = deltaNorm(global, local);
  const scale = norm > settings.clip ? settings.clip / norm : 1;
  return global.map((g, k) => {
    const l = local[k]!.data;
    const out = new Float32Array(g.data.length);
    for (let i = 0; i < out.length; i++) {
      const noise = settings.noiseStd === 0 ? 0 : settings.noiseStd * normal();
      out[i] = g.data[i]! + scale * (l[i]! - g.data[i]!) + noise;
    }
    return { name: g.name, shape: [...g.shape], data: out };
  });
}

/**
 * Largest ‖Δ‖₂ the coordinator accepts for clip C: an update clipped in float64 and stored in
 * float32 may exceed C by the rounding of each weight (half an ulp, 2⁻²⁴ relative).
 */
export function clipTolerance(clip: number, local: Weights): number {
  let ss = 0;
  for (const t of local) for (let i = 0; i < t.data.length; i++) ss += t.data[i]! * t.data[i]!;
  return clip * (1 + 1e-6) + 2 ** -23 * Math.sqrt(ss);
}
