/**
 * Non-IID site plan: hospitals differ in both size and ancestry mix, which is
 * what makes federated averaging harder than pooled training. Each site's mix
 * is drawn from its own seed-derived stream, so adding a site leaves the mixes
 * of existing sites unchanged.
 */
import { deriveSeed, Prng, type Seed } from '../shared/prng.js';
import { ANCESTRIES, type Ancestry } from './synthetic-cohort.js';

export interface SitePlan {
  siteId: string;
  n: number;
  ancestryMix: Record<Ancestry, number>;
}

export interface PlanSitesOptions {
  sites: number;
  seed: Seed;
  /** Default 300 per site. */
  totalPatients?: number;
  /** Dirichlet concentration around BASE_ANCESTRY_MIX; lower = more skew. Default 2. */
  alpha?: number;
  /** Minimum rows per site. Default 60. */
  minRows?: number;
}

/** Population-level mix the site mixes scatter around. */
export const BASE_ANCESTRY_MIX: Record<Ancestry, number> = {
  White: 0.6,
  Asian: 0.2,
  Black: 0.12,
  Other: 0.08,
};

/** Concentration for site sizes: 1.5 gives visibly unequal but not degenerate sites. */
export const SIZE_CONCENTRATION = 1.5;

export function siteIdFor(index: number): string {
  return `site-${index + 1}`;
}

/** Dirichlet(alpha · base) draw, returned as an ancestry record. */
export function drawAncestryMix(rng: Prng, alpha: number): Record<Ancestry, number> {
  const props = rng.dirichlet(ANCESTRIES.map((a) => alpha * BASE_ANCESTRY_MIX[a]));
  const mix = {} as Record<Ancestry, number>;
  ANCESTRIES.forEach((a, i) => {
    mix[a] = props[i] ?? 0;
  });
  return mix;
}

/** Split `total` integers by proportions with largest-remainder rounding, so the sum is exact. */
export function apportion(total: number, props: readonly number[]): number[] {
  const raw = props.map((p) => p * total);
  const out = raw.map(Math.floor);
  let left = total - out.reduce((s, x) => s + x, 0);
  const order = raw
    .map((r, i) => ({ i, frac: r - Math.floor(r) }))
    .sort((x, y) => y.frac - x.frac || x.i - y.i);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) {
    const idx = (order[k] as { i: number }).i;
    out[idx] = (out[idx] ?? 0) + 1;
  }
  return out;
}

export function planSites(opts: PlanSitesOptions): SitePlan[] {
  const { sites, seed } = opts;
  const alpha = opts.alpha ?? 2;
  const minRows = opts.minRows ?? 60;
  const totalPatients = opts.totalPatients ?? 300 * sites;
  if (!Number.isInteger(sites) || sites < 1) throw new RangeError(`sites must be a positive integer, got ${sites}`);
  if (!(alpha > 0) || !Number.isFinite(alpha)) throw new RangeError(`alpha must be positive, got ${alpha}`);
  if (!Number.isInteger(minRows) || minRows < 0) {
    throw new RangeError(`minRows must be a non-negative integer, got ${minRows}`);
  }
  if (!Number.isInteger(totalPatients) || totalPatients < sites * minRows) {
    throw new RangeError(`totalPatients (${totalPatients}) must be an integer >= sites * minRows (${sites * minRows})`);
  }

  // Every site gets minRows; only the surplus is split unevenly.
  const sizeRng = new Prng(deriveSeed(seed, 'site-sizes'));
  const shares = sizeRng.dirichlet(Array.from({ length: sites }, () => SIZE_CONCENTRATION));
  const extra = apportion(totalPatients - sites * minRows, shares);

  return extra.map((e, i) => {
    const siteId = siteIdFor(i);
    const mixRng = new Prng(deriveSeed(seed, siteId, 'ancestry-mix'));
    return { siteId, n: minRows + e, ancestryMix: drawAncestryMix(mixRng, alpha) };
  });
}
