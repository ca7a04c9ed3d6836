import { describe, expect, it } from 'vitest';
import { createStrategy } from '../../../coordinator/strategies/registry.js';
import type { SiteUpdate } from '../../../coordinator/strategies/types.js';
import type { ErrorCode } from '../../../shared/errors.js';
import type { Weights } from '../../../shared/tensors.js';
import { ctx, update, values, weights } from './fixtures.js';

const fedAvg = createStrategy('fedavg', {});
const A = (): SiteUpdate => update('A', 1, [1, 2, 3], [10]);
const B = (): SiteUpdate => update('B', 3, [5, 6, 7], [20]);

describe('FedAvg', () => {
  it('hand-worked weighted mean: A (n=1) and B (n=3) → [4,5,6], [17.5]', () => {
    // (1·1 + 3·5)/4 = 4, (2 + 18)/4 = 5, (3 + 21)/4 = 6, (10 + 60)/4 = 17.5
    const agg = fedAvg.beginRound(ctx());
    expect(agg.accept(A())).toEqual({ accepted: true });
    expect(agg.accept(B())).toEqual({ accepted: true });
    expect(agg.accepted).toBe(2);
    const r = agg.finalize();
    expect(values(r)).toEqual([[4, 5, 6], [17.5]]);
    expect(r?.totalExamples).toBe(4);
    expect(r?.contributors).toBe(2);
    expect(r?.weights.map((t) => [t.name, t.shape])).toEqual([
      ['w', [3]],
      ['b', [1]],
    ]);
    expect(fedAvg.name).toBe('fedavg');
  });

  it('does not depend on arrival order', () => {
    const ab = fedAvg.beginRound(ctx());
    ab.accept(A());
    ab.accept(B());
    const ba = fedAvg.beginRound(ctx());
    ba.accept(B());
    ba.accept(A());
    expect(values(ba.finalize())).toEqual(values(ab.finalize()));
    expect(values(ba.finalize())).toEqual([[4, 5, 6], [17.5]]);
  });

  it('one site gives back its own weights; three sites weigh by examples', () => {
    const one = fedAvg.beginRound(ctx());
    one.accept(B());
    expect(values(one.finalize())).toEqual([[5, 6, 7], [20]]);
    const three = fedAvg.beginRound(ctx());
    three.accept(A());
    three.accept(B());
    three.accept(update('C', 4, [-4, 0, 2], [0]));
    // (1+15-16)/8 = 0, (2+18+0)/8 = 2.5, (3+21+8)/8 = 4, (10+60+0)/8 = 8.75
    expect(values(three.finalize())).toEqual([[0, 2.5, 4], [8.75]]);
  });

  it('accumulates in float64 (small contributions are not lost next to large ones)', () => {
    const agg = fedAvg.beginRound(ctx());
    agg.accept(update('A', 1, [16777216, 0, 0], [0])); // 2^24
    agg.accept(update('B', 1, [1, 0, 0], [0]));
    agg.accept(update('C', 2, [0.5, 0, 0], [0]));
    // float64: (2^24 + 1 + 1) / 4 = 2^22 + 0.5 = 4194304.5, exact in float32. A float32 running
    // sum would round 2^24 + 1 down to 2^24 twice and give 2^22 = 4194304.
    expect(values(agg.finalize())[0]![0]).toBe(4194304.5);
  });

  it('finalize with nothing accepted → null, even after rejections', () => {
    const agg = fedAvg.beginRound(ctx());
    expect(agg.finalize()).toBeNull();
    agg.accept({ ...A(), runId: 'other' });
    expect(agg.accepted).toBe(0);
    expect(agg.finalize()).toBeNull();
  });

  it('does not alias the inputs or the global model', () => {
    const c = ctx();
    const agg = fedAvg.beginRound(c);
    const a = A();
    agg.accept(a);
    a.weights[0]!.data[0] = 999; // the site's buffer is reused after accept
    const r = agg.finalize();
    expect(values(r)).toEqual([[1, 2, 3], [10]]);
    expect(r?.weights[0]!.data).not.toBe(c.globalWeights[0]!.data);
    expect(r?.weights[0]!.shape).not.toBe(c.globalWeights[0]!.shape);
    expect(Array.from(c.globalWeights[0]!.data)).toEqual([0, 0, 0]);
  });
});

describe('FedAvg rejections leave the running sum untouched', () => {
  // Each bad update carries large values and a large count, so folding it in would show.
  const big = (siteId: string, n = 1000): SiteUpdate => update(siteId, n, [1e6, -1e6, 1e6], [1e6]);
  const withWeights = (w: Weights): SiteUpdate => ({ ...big('C'), weights: w });
  const cases: Array<[string, ErrorCode, () => SiteUpdate]> = [
    ['wrong run', 'E_WRONG_RUN', () => ({ ...big('C'), runId: 'run-2' })],
    ['stale round', 'E_STALE_ROUND', () => ({ ...big('C'), round: 1 })],
    ['future round', 'E_STALE_ROUND', () => ({ ...big('C'), round: 3 })],
    ['site not selected', 'E_NOT_SELECTED', () => big('D')],
    ['second update from A', 'E_DUPLICATE_UPDATE', () => big('A')],
    ['other base model', 'E_BASE_MODEL', () => ({ ...big('C'), baseModelHash: 'b'.repeat(64) })],
    ['0 examples', 'E_BAD_EXAMPLES', () => big('C', 0)],
    ['1.5 examples', 'E_BAD_EXAMPLES', () => big('C', 1.5)],
    ['-3 examples', 'E_BAD_EXAMPLES', () => big('C', -3)],
    ['NaN examples', 'E_BAD_EXAMPLES', () => big('C', Number.NaN)],
    ['wrong tensor name', 'E_SHAPE_MISMATCH', () => withWeights([weights([1, 1, 1], [1])[0]!, { name: 'bias', shape: [1], data: new Float32Array([1]) }])],
    ['wrong shape', 'E_SHAPE_MISMATCH', () => withWeights([{ name: 'w', shape: [1, 3], data: new Float32Array([1, 1, 1]) }, weights([0, 0, 0], [1])[1]!])],
    ['too few tensors', 'E_SHAPE_MISMATCH', () => withWeights([weights([1, 1, 1], [1])[0]!])],
    ['too many tensors', 'E_SHAPE_MISMATCH', () => withWeights([...weights([1, 1, 1], [1]), { name: 'x', shape: [1], data: new Float32Array([1]) }])],
    ['tensors swapped', 'E_SHAPE_MISMATCH', () => withWeights(weights([1, 1, 1], [1]).reverse())],
    // Declared shape right, data length wrong (was accepted and folded as zeros before the fix).
    ['data shorter than its shape', 'E_SHAPE_MISMATCH', () => withWeights([{ name: 'w', shape: [3], data: new Float32Array([1e6]) }, weights([0, 0, 0], [1])[1]!])],
    ['data longer than its shape', 'E_SHAPE_MISMATCH', () => withWeights([{ name: 'w', shape: [3], data: new Float32Array([1, 1, 1, 1]) }, weights([0, 0, 0], [1])[1]!])],
    ['NaN', 'E_NON_FINITE', () => withWeights(weights([1, 1, 1], [Number.NaN]))],
    ['+Inf', 'E_NON_FINITE', () => withWeights(weights([1, Number.POSITIVE_INFINITY, 1], [1]))],
    ['-Inf', 'E_NON_FINITE', () => withWeights(weights([1, 1, 1], [Number.NEGATIVE_INFINITY]))],
  ];

  for (const [label, code, bad] of cases) {
    it(`${label} → ${code}`, () => {
      const agg = fedAvg.beginRound(ctx());
      expect(agg.accept(A())).toEqual({ accepted: true });
      const verdict = agg.accept(bad());
      expect(verdict.accepted).toBe(false);
      if (!verdict.accepted) {
        expect(verdict.code).toBe(code);
        expect(verdict.reason.length).toBeGreaterThan(0);
      }
      expect(agg.accepted).toBe(1);
      expect(agg.accept(B())).toEqual({ accepted: true });
      const r = agg.finalize();
      expect(values(r)).toEqual([[4, 5, 6], [17.5]]);
      expect(r?.totalExamples).toBe(4);
      expect(r?.contributors).toBe(2);
    });
  }

  it('a NaN in the last tensor, after the first was folded, leaves the sum bit for bit as it was', () => {
    // Sums whose float64 additions round: undoing a fold by subtracting it again would not give
    // them back (0.1·3 + 1e17 − 1e17 = 0), so a refused update must never have touched them.
    const agg = fedAvg.beginRound(ctx());
    agg.accept(update('A', 3, [0.1, 1 / 3, 2 / 3], [0.7]));
    const poisoned = update('C', 1e9, [1e8, -1e8, 1e8], [Number.NaN]);
    const verdict = agg.accept(poisoned);
    expect(verdict).toEqual({ accepted: false, code: 'E_NON_FINITE', reason: 'tensor b holds a non-finite value at 0' });
    agg.accept(update('B', 1, [0.3, 0.3, 0.3], [0.1]));
    const alone = fedAvg.beginRound(ctx());
    alone.accept(update('A', 3, [0.1, 1 / 3, 2 / 3], [0.7]));
    alone.accept(update('B', 1, [0.3, 0.3, 0.3], [0.1]));
    expect(values(agg.finalize())).toEqual(values(alone.finalize()));
  });

  it('names the first non-finite value of the tensor that holds it', () => {
    const agg = fedAvg.beginRound(ctx());
    const verdict = agg.accept(update('A', 1, [1, Number.NEGATIVE_INFINITY, Number.NaN], [0]));
    expect(verdict).toEqual({ accepted: false, code: 'E_NON_FINITE', reason: 'tensor w holds a non-finite value at 1' });
  });

  it('a site rejected for a bad update may not be counted as a duplicate (it was never accepted)', () => {
    const agg = fedAvg.beginRound(ctx());
    agg.accept(A());
    expect(agg.accept(withWeights(weights([1, 1, 1], [Number.NaN]))).accepted).toBe(false);
    // C retries with a valid update: accepted.
    expect(agg.accept(update('C', 4, [-4, 0, 2], [0]))).toEqual({ accepted: true });
    agg.accept(B());
    expect(values(agg.finalize())).toEqual([[0, 2.5, 4], [8.75]]);
  });
});
