// A run's differential-privacy settings (client-level DP-FedAvg): as the data scientist gives them,
// as each round sends them to the sites, and the checks both ends apply to them.

import { Type, type Static } from '@sinclair/typebox';
import { FedrxError } from '../errors.js';

/** `run start --dp-noise-multiplier Z --dp-clip C [--dp-delta D]`, stored in the run's config (so hashed). */
export const DpConfigSchema = Type.Object(
  {
    /** Z: the noise on the sum of clipped changes has standard deviation Z·C. */
    noiseMultiplier: Type.Number({ exclusiveMinimum: 0, maximum: 1e4 }),
    /** C: L2 bound on each site's change from the global model. */
    clip: Type.Number({ exclusiveMinimum: 0, maximum: 1e6 }),
    /** δ of the (ε, δ) figures; below 1/n (n registered sites). Filled in at run start when not given. */
    delta: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 })),
  },
  { additionalProperties: false },
);
export type DpConfig = Static<typeof DpConfigSchema>;

/**
 * The train request's `dp` field: what the site applies (clip, its own noise) and what it needs to
 * count what this run would cost it before it trains (its --max-epsilon).
 */
export const TaskDpSchema = Type.Object(
  {
    clip: Type.Number({ exclusiveMinimum: 0, maximum: 1e6 }),
    /** The site's own noise per coordinate: 0 when the coordinator adds all of it (a plain run). */
    noiseStd: Type.Number({ minimum: 0, maximum: 1e10 }),
    /** σ the round's sum is protected by (noise std / C), and its sampling rate and δ. */
    noiseMultiplier: Type.Number({ exclusiveMinimum: 0, maximum: 1e4 }),
    samplingRate: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
    delta: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 }),
    /** Rounds of the run still to come, this one included. */
    roundsLeft: Type.Integer({ minimum: 1, maximum: 10000 }),
  },
  { additionalProperties: false },
);
export type TaskDp = Static<typeof TaskDpSchema>;

/**
 * Checks Z, C and δ as given (attacker-controlled: a REST body or flags; NaN and ±∞ included) against
 * n registered sites, and fills in δ = n^(−1.1) when absent. DP here protects sites, so δ must stay
 * below 1/n: at 1/n a mechanism could reveal one whole site's data and still claim (0, δ).
 */
export function resolveDpConfig(given: { noiseMultiplier: number; clip: number; delta?: number | undefined }, registeredSites: number): DpConfig {
  const { noiseMultiplier: z, clip: c, delta } = given;
  if (!(Number.isFinite(z) && z > 0 && z <= 1e4)) throw new FedrxError('E_DP_SETTINGS', `the noise multiplier must be a number in (0, 10000], got ${z}`);
  if (!(Number.isFinite(c) && c > 0 && c <= 1e6)) throw new FedrxError('E_DP_SETTINGS', `the clip must be a number in (0, 1000000], got ${c}`);
  if (registeredSites < 1) throw new FedrxError('E_DP_SETTINGS', 'no site is registered: δ must be below 1/n');
  const d = delta ?? registeredSites ** -1.1;
  if (!(Number.isFinite(d) && d > 0 && d < 1 / registeredSites)) {
    throw new FedrxError('E_DP_SETTINGS', `δ must be in (0, 1/n) for n = ${registeredSites} registered sites (below ${1 / registeredSites}), got ${d}`);
  }
  return { noiseMultiplier: z, clip: c, delta: d };
}

/**
 * Each site's noise std: none when the coordinator adds the noise to the sum, Z·C/√m when each of
 * the m selected sites adds its share (distributed DP: m shares sum to variance (Z·C)²). With only
 * s of m shares in the sum, the noise multiplier actually reached is Z·√(s/m) (effectiveNoiseMultiplier).
 */
export function siteNoiseStd(dp: Pick<DpConfig, 'noiseMultiplier' | 'clip'>, selectedSites: number, distributed: boolean): number {
  if (!distributed) return 0;
  return (dp.noiseMultiplier * dp.clip) / Math.sqrt(selectedSites);
}

/** σ of a distributed round whose sum holds `included` of the `selected` sites' noise shares. */
export const effectiveNoiseMultiplier = (noiseMultiplier: number, included: number, selected: number): number =>
  noiseMultiplier * Math.sqrt(included / selected);
