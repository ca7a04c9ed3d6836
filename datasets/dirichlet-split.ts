// Dirichlet(α) non-IID split (Hsu, Qi and Brown 2019): for each label, the sites' shares of its
// rows are drawn from Dir(α, …, α), so a small α gives each site a few labels and a large one
// near-IID sites. Pure; seeded.

import { FedrxError } from '../shared/errors.js';
import type { Prng } from '../shared/prng.js';
import { apportion } from './partition.js';
import type { RowLabels } from './quantile-bins.js';

/**
 * Row indices per site, each list ascending. A site left with fewer than `minRows` rows then takes
 * rows from the site holding most, one at a time, so every site has `minRows` and the skew is kept
 * elsewhere. Needs `sites · minRows` ≤ rows (checked by the caller).
 */
export function dirichletSplit(rows: RowLabels, sites: number, alpha: number, minRows: number, rng: Prng): number[][] {
  if (!(alpha > 0) || !Number.isFinite(alpha)) throw new FedrxError('E_BAD_PARTITION', `a Dirichlet α must be a positive finite number, got ${alpha}`);
  const byLabel: number[][] = Array.from({ length: rows.count }, () => []);
  rows.labels.forEach((label, i) => byLabel[label]!.push(i));
  const out: number[][] = Array.from({ length: sites }, () => []);
  const concentration = new Array<number>(sites).fill(alpha);
  for (const members of byLabel) {
    if (members.length === 0) continue;
    rng.shuffle(members);
    const counts = apportion(members.length, rng.dirichlet(concentration));
    let at = 0;
    counts.forEach((c, s) => {
      for (let k = 0; k < c; k++) out[s]!.push(members[at++]!);
    });
  }
  topUp(out, minRows);
  return out.map((r) => r.sort((a, b) => a - b));
}

/** Moves rows from the largest site to each site short of `minRows`. */
function topUp(out: number[][], minRows: number): void {
  for (const site of out) {
    while (site.length < minRows) {
      let donor = out[0]!;
      for (const other of out) if (other.length > donor.length) donor = other;
      if (donor.length <= minRows) throw new FedrxError('E_BAD_PARTITION', `too few rows for ${out.length} sites of at least ${minRows}`);
      site.push(donor.pop()!);
    }
  }
}
