// Secure aggregation's settings for one round, and the neighbour graph every party derives from
// the round's sorted site list: all sites, or a ring of k neighbours (SecAgg+, Bell et al. 2020).

import { Type, type Static } from '@sinclair/typebox';
import { FedrxError } from '../errors.js';

/** Shares of one secret are split among a site and its neighbours: the library's GF(256) x-coordinates allow 255. */
export const MAX_NEIGHBOURS = 128;
/** Ring elements are uint32: the sum of every site's quantised values must stay below 2^32. */
export const MODULUS_BITS = 32;

export const SecureParamsSchema = Type.Object(
  {
    /** Shares needed to rebuild one site's secret; also the fewest sites a secure round can finish with. */
    threshold: Type.Integer({ minimum: 2 }),
    /** Ring neighbours each side counted together (k); every other site when k ≥ sites − 1. */
    neighbours: Type.Integer({ minimum: 2, maximum: MAX_NEIGHBOURS }),
    /** Each coordinate of a weighted update is clipped to [−clip, clip] before quantisation. */
    clip: Type.Number({ exclusiveMinimum: 0, maximum: 1e6 }),
    /** Quantisation levels are 2^quantBits. */
    quantBits: Type.Integer({ minimum: 8, maximum: 24 }),
    /** A site's weight is its example count over this (FedAvg's weighting, bounded to [0, 1]). */
    maxWeight: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);
export type SecureParams = Static<typeof SecureParamsSchema>;

/** What a run asks for (`run start --secure-aggregation`); unset fields take defaults from the round's sites. */
export const SecureRequestSchema = Type.Object(
  {
    threshold: Type.Optional(Type.Integer({ minimum: 2, maximum: MAX_NEIGHBOURS + 1 })),
    neighbours: Type.Optional(Type.Integer({ minimum: 2, maximum: MAX_NEIGHBOURS })),
    clip: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1e6 })),
    quantBits: Type.Optional(Type.Integer({ minimum: 8, maximum: 24 })),
  },
  { additionalProperties: false },
);
export type SecureRequest = Static<typeof SecureRequestSchema>;

export const DEFAULT_CLIP = 4;
export const DEFAULT_QUANT_BITS = 20;

/** The neighbours of `siteId` among `sites` (sorted, unique): the ring offsets ±1..±⌈k/2⌉, or everyone. */
export function neighboursOf(siteId: string, sites: readonly string[], k: number): string[] {
  const i = sites.indexOf(siteId);
  if (i === -1) return [];
  const n = sites.length;
  const half = Math.ceil(k / 2);
  if (2 * half >= n - 1) return sites.filter((s) => s !== siteId);
  const out = new Set<string>();
  for (let d = 1; d <= half; d++) {
    out.add(sites[(i + d) % n]!);
    out.add(sites[(i - d + n) % n]!);
  }
  return [...out].sort();
}

/** How many others each site is joined to: ring degree, or n − 1. */
export const degreeOf = (sites: number, k: number): number => Math.min(2 * Math.ceil(k / 2), sites - 1);

/**
 * The round's parameters from a run's request and its selected sites, or E_SECAGG_PARAMS saying why
 * they cannot work: the threshold must be reachable within each neighbourhood (degree + 1 holders),
 * above half of it (else two disjoint groups could each rebuild a secret), and the ring sum must not wrap.
 */
export function resolveParams(req: SecureRequest, sites: number, maxWeight: number): SecureParams {
  const bad = (why: string): FedrxError => new FedrxError('E_SECAGG_PARAMS', `secure aggregation: ${why}`);
  if (sites < 3) throw bad(`needs at least 3 sites, this round has ${sites}`);
  const neighbours = Math.min(req.neighbours ?? sites - 1, sites - 1);
  if (!Number.isInteger(neighbours) || neighbours < 2 || neighbours > MAX_NEIGHBOURS) throw bad(`neighbours must be an integer in 2..${MAX_NEIGHBOURS}, got ${req.neighbours ?? sites - 1}; use a ring of k neighbours for large federations`);
  const holders = degreeOf(sites, neighbours) + 1;
  const threshold = req.threshold ?? Math.floor((2 * holders) / 3) + 1;
  if (!Number.isInteger(threshold) || threshold > holders || threshold <= holders / 2) {
    throw bad(`threshold ${threshold} must be an integer above half of the ${holders} share holders of each site and at most ${holders}`);
  }
  const clip = req.clip ?? DEFAULT_CLIP;
  if (!(clip > 0) || !Number.isFinite(clip)) throw bad(`clip must be a positive number, got ${clip}`);
  const quantBits = req.quantBits ?? DEFAULT_QUANT_BITS;
  if (!Number.isInteger(quantBits) || quantBits < 8 || quantBits > 24) throw bad(`quantBits must be an integer in 8..24, got ${quantBits}`);
  if (sites * (2 ** quantBits - 1) >= 2 ** MODULUS_BITS) throw bad(`${sites} sites × 2^${quantBits} levels would wrap the 2^${MODULUS_BITS} ring: lower quantBits`);
  if (!Number.isSafeInteger(maxWeight) || maxWeight < 1) throw bad(`maxWeight must be a positive integer, got ${maxWeight}`);
  return { threshold, neighbours, clip, quantBits, maxWeight };
}
