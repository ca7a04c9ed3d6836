// Coordinate-wise robust rules over the buffered updates: the median (Yin et al. 2018) and the
// β-trimmed mean. Each reports, per site, the share of coordinates where its value was set aside.

import { median, trimCount, trimmedMean } from './robust-maths.js';
import { BLOCK, BufferedAggregator } from './buffered-aggregator.js';
import type { RobustReport, RoundContext } from '../types.js';

abstract class CoordinateRule extends BufferedAggregator {
  /** How many values are set aside at each end of the sorted column. */
  protected abstract dropped(n: number): number;
  protected abstract reduce(column: Float64Array): number;
  protected abstract readonly rule: string;

  protected combine(): { flat: Float32Array; report: RobustReport; contributors: number } {
    const n = this.buffer.count;
    const flat = new Float32Array(this.buffer.size);
    const column = new Float64Array(n);
    const order = new Float64Array(n);
    const setAside = new Float64Array(n);
    const k = this.dropped(n);
    this.buffer.forEachBlock(BLOCK, (start, rows) => {
      for (let j = 0; j < rows[0]!.length; j++) {
        for (let i = 0; i < n; i++) column[i] = rows[i]![j]!;
        if (k > 0) {
          // Which sites' values fall in the trimmed ends: ranks by value, ties by site order.
          for (let i = 0; i < n; i++) order[i] = i;
          const idx = Array.from(order).sort((a, b) => column[a]! - column[b]! || a - b);
          for (let r = 0; r < k; r++) {
            setAside[idx[r]!]!++;
            setAside[idx[n - 1 - r]!]!++;
          }
        }
        flat[start + j] = this.reduce(column);
      }
    });
    const trimmed = k === 0 ? [] : this.buffer.sites.map((siteId, i) => ({ siteId, share: setAside[i]! / this.buffer.size })).filter((t) => t.share > 0);
    return { flat, report: { rule: this.rule, excluded: [], clipped: [], trimmed }, contributors: n };
  }
}

export class MedianAggregator extends CoordinateRule {
  protected readonly rule = 'median';
  protected dropped(n: number): number {
    return (n - 1) >> 1; // all but the middle one (or two)
  }
  protected reduce(column: Float64Array): number {
    return median(column);
  }
}

export class TrimmedMeanAggregator extends CoordinateRule {
  protected readonly rule: string;
  constructor(
    ctx: RoundContext,
    private readonly beta: number,
  ) {
    super(ctx);
    this.rule = `trimmed-mean β=${beta}`;
  }
  protected dropped(n: number): number {
    return trimCount(n, this.beta);
  }
  protected reduce(column: Float64Array): number {
    return trimmedMean(column, this.beta);
  }
}
