// Multi-Krum (Blanchard et al. 2017; El Mhamdi et al. 2018): score each update by its squared
// distances to its n − f − 2 nearest others, keep the m best, average them. The others are
// excluded, each with its score, for the ledger.

import { BLOCK, BufferedAggregator } from './buffered-aggregator.js';
import { krumScores, multiKrumSelect } from './robust-maths.js';
import type { RobustReport, RoundContext } from '../types.js';

export class MultiKrumAggregator extends BufferedAggregator {
  constructor(
    ctx: RoundContext,
    private readonly f: number,
    /** Updates kept; 0: n − f. */
    private readonly m: number,
  ) {
    super(ctx);
  }

  protected combine(): { flat: Float32Array; report: RobustReport; contributors: number } {
    const n = this.buffer.count;
    const d2 = Array.from({ length: n }, () => new Float64Array(n));
    this.buffer.forEachBlock(BLOCK, (_start, rows) => {
      for (let a = 0; a < n; a++) {
        for (let b = a + 1; b < n; b++) {
          const x = rows[a]!;
          const y = rows[b]!;
          let s = 0;
          for (let j = 0; j < x.length; j++) {
            const d = x[j]! - y[j]!;
            s += d * d;
          }
          d2[a]![b]! += s;
          d2[b]![a]! += s;
        }
      }
    });
    const keep = Math.min(n, Math.max(1, this.m === 0 ? n - this.f : this.m));
    const chosen = n - this.f - 2 >= 1 ? multiKrumSelect(d2, this.f, keep) : Array.from({ length: n }, (_, i) => i);
    const scores = n - this.f - 2 >= 1 ? krumScores(d2, this.f) : new Array<number>(n).fill(0);
    const flat = new Float32Array(this.buffer.size);
    const sum = new Float64Array(BLOCK);
    this.buffer.forEachBlock(BLOCK, (start, rows) => {
      sum.fill(0);
      for (const i of chosen) for (let j = 0; j < rows[i]!.length; j++) sum[j]! += rows[i]![j]!;
      for (let j = 0; j < rows[0]!.length; j++) flat[start + j] = sum[j]! / chosen.length;
    });
    const kept = new Set(chosen);
    const worstKept = Math.max(...chosen.map((i) => scores[i]!));
    const excluded = this.buffer.sites
      .map((siteId, i) => ({ siteId, i }))
      .filter(({ i }) => !kept.has(i))
      .map(({ siteId, i }) => ({ siteId, reason: `Krum score ${scores[i]!.toPrecision(4)} above the ${keep} kept (worst kept ${worstKept.toPrecision(4)}), f=${this.f}` }));
    return { flat, report: { rule: `multi-krum f=${this.f} m=${keep}`, excluded, clipped: [], trimmed: [] }, contributors: chosen.length };
  }
}
