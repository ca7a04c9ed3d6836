import { describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { fedAdam as descriptor, type FedAdamStrategy } from '../../../coordinator/strategies/fedadam.js';
import { createStrategy, type StrategyOptions } from '../../../coordinator/strategies/registry.js';
import type { AggregateResult, RoundContext, SiteUpdate } from '../../../coordinator/strategies/types.js';
import { isFedrxError } from '../../../shared/errors.js';
import { Prng } from '../../../shared/prng.js';
import { decodeFrame64, encodeFrame64 } from '../../../shared/tensor-codec.js';
import { sizeOf, type Weights } from '../../../shared/tensors.js';
import { thrownCode } from '../../helpers/error-code.js';

const GLOBAL_HASH = 'a'.repeat(64);
const fedAdam = (options: StrategyOptions = {}): FedAdamStrategy => createStrategy('fedadam', options) as FedAdamStrategy;
const H = { serverLr: 0.1, beta1: 0.9, beta2: 0.99, tau: 0.001 };

/** A one-tensor model [x, y]: small enough to work by hand. */
function ctx(round: number, global: number[], selected = ['A', 'B', 'C']): RoundContext {
  return {
    runId: 'run-1',
    round,
    globalWeights: [{ name: 'w', shape: [global.length], data: new Float32Array(global) }],
    globalHash: GLOBAL_HASH,
    selected: new Set(selected),
  };
}

function update(siteId: string, round: number, numExamples: number, w: number[]): SiteUpdate {
  const weights: Weights = [{ name: 'w', shape: [w.length], data: new Float32Array(w) }];
  return { siteId, runId: 'run-1', round, baseModelHash: GLOBAL_HASH, numExamples, updateHash: 'c'.repeat(64), weights };
}

function values(r: AggregateResult | null): number[] {
  if (r === null) throw new Error('expected a result');
  return Array.from(r.weights[0]!.data);
}

function expectClose(actual: ArrayLike<number>, expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((x, i) => expect(actual[i]).toBeCloseTo(x, 6));
}

/** Copies of the moments, to compare before and after. */
function snapshot(s: FedAdamStrategy): { m: number[][]; v: number[][] } | null {
  const mo = s.moments;
  return mo === null ? null : { m: mo.m.map((a) => Array.from(a)), v: mo.v.map((a) => Array.from(a)) };
}

// Round 1: global [0, 0], one site (n=1) sends [1, −2].
//   Δ = [1, −2]
//   m = 0.9·0 + 0.1·Δ      = [0.1, −0.2]
//   v = 0.99·0 + 0.01·Δ²   = [0.01, 0.04]          √v = [0.1, 0.2]
//   w = 0 + 0.1·m/(√v + 0.001) = [0.01/0.101, −0.02/0.201] = [0.0990099009901, −0.0995024875622]
function round1(s: FedAdamStrategy): AggregateResult | null {
  const agg = s.beginRound(ctx(1, [0, 0]));
  expect(agg.accept(update('A', 1, 1, [1, -2]))).toEqual({ accepted: true });
  return agg.finalize();
}
const ROUND1 = [0.0990099009901, -0.0995024875622];

// Round 2 (the global model is set to [0.5, 0.5] to keep the numbers easy): A (n=1) sends
// [1.5, 0.5], B (n=3) sends [0.5, 2.5].
//   mean = [(1.5 + 1.5)/4, (0.5 + 7.5)/4] = [0.75, 2]          Δ = [0.25, 1.5]
//   m = 0.9·[0.1, −0.2] + 0.1·[0.25, 1.5]       = [0.115, −0.03]
//   v = 0.99·[0.01, 0.04] + 0.01·[0.0625, 2.25] = [0.010525, 0.0621]
//   √v = [0.1025914226434, 0.2491987158875]
//   w = 0.5 + 0.1·m/(√v + 0.001) = [0.5 + 0.0115/0.1035914226434, 0.5 − 0.003/0.2501987158875]
//     = [0.6110130521094, 0.4880095307869]
// The momentum from round 1 still pulls the second weight down although this round's Δ is > 0.
function round2Agg(s: FedAdamStrategy) {
  const agg = s.beginRound(ctx(2, [0.5, 0.5]));
  expect(agg.accept(update('A', 2, 1, [1.5, 0.5]))).toEqual({ accepted: true });
  expect(agg.accept(update('B', 2, 3, [0.5, 2.5]))).toEqual({ accepted: true });
  return agg;
}
const ROUND2 = [0.6110130521094, 0.4880095307869];

describe('FedAdam', () => {
  it('round 1, hand-worked: global [0,0], one site [1,−2] → [0.0990099, −0.0995025]', () => {
    const s = fedAdam(H);
    expect(s.name).toBe('fedadam');
    expect(s.moments).toBeNull();
    const r = round1(s);
    expectClose(values(r), ROUND1);
    expect(r?.totalExamples).toBe(1);
    expect(r?.contributors).toBe(1);
    expect(r?.weights.map((t) => [t.name, t.shape])).toEqual([['w', [2]]]);
    expectClose(s.moments!.m[0]!, [0.1, -0.2]);
    expectClose(s.moments!.v[0]!, [0.01, 0.04]);
  });

  it('the defaults are η=0.1, β1=0.9, β2=0.99, τ=0.001: same numbers with no options', () => {
    expect(Value.Default(descriptor.options, {})).toEqual({ serverLr: 0.1, beta1: 0.9, beta2: 0.99, tau: 0.001 });
    const s = fedAdam({});
    expect(s.hyperparameters).toEqual(H);
    expectClose(values(round1(s)), ROUND1);
    expectClose(values(round1(fedAdam())), ROUND1);
  });

  it('round 2, hand-worked: the moments carry over from round 1', () => {
    const s = fedAdam(H);
    round1(s);
    const r = round2Agg(s).finalize();
    expectClose(values(r), ROUND2);
    expect(r?.totalExamples).toBe(4);
    expect(r?.contributors).toBe(2);
    expectClose(s.moments!.m[0]!, [0.115, -0.03]);
    expectClose(s.moments!.v[0]!, [0.010525, 0.0621]);
  });

  it('the same round 2 in a fresh run (zero moments) gives other numbers', () => {
    // m = 0.1·[0.25, 1.5] = [0.025, 0.15], v = 0.01·[0.0625, 2.25] = [0.000625, 0.0225], √v = [0.025, 0.15]
    // w = 0.5 + 0.1·m/(√v + 0.001) = [0.5 + 0.0025/0.026, 0.5 + 0.015/0.151] = [0.5961538461538, 0.5993377483444]
    const fresh = fedAdam(H);
    expectClose(values(round2Agg(fresh).finalize()), [0.5961538461538, 0.5993377483444]);
  });

  it('rejected updates (NaN, wrong run, duplicate, shape) leave the moments and the result untouched', () => {
    const s = fedAdam(H);
    const agg1 = s.beginRound(ctx(1, [0, 0]));
    expect(agg1.accept(update('B', 1, 1000, [Number.NaN, 5])).accepted).toBe(false);
    expect(s.moments).toBeNull();
    expect(agg1.accept(update('A', 1, 1, [1, -2]))).toEqual({ accepted: true });
    expectClose(values(agg1.finalize()), ROUND1);
    const before = snapshot(s);

    const agg2 = s.beginRound(ctx(2, [0.5, 0.5]));
    const bad: SiteUpdate[] = [
      update('C', 2, 1000, [Number.NaN, 1e6]),
      update('C', 2, 1000, [1e6, Number.POSITIVE_INFINITY]),
      { ...update('C', 2, 1000, [1e6, 1e6]), runId: 'run-2' },
      update('C', 1, 1000, [1e6, 1e6]),
      update('D', 2, 1000, [1e6, 1e6]),
      update('C', 2, 1000, [1e6, 1e6, 1e6]),
    ];
    for (const u of bad) expect(agg2.accept(u).accepted).toBe(false);
    expect(agg2.accepted).toBe(0);
    expect(snapshot(s)).toEqual(before);
    expect(agg2.accept(update('A', 2, 1, [1.5, 0.5]))).toEqual({ accepted: true });
    expect(agg2.accept({ ...update('A', 2, 1000, [1e6, 1e6]) }).accepted).toBe(false); // duplicate
    expect(agg2.accept(update('B', 2, 3, [0.5, 2.5]))).toEqual({ accepted: true });
    expect(snapshot(s)).toEqual(before); // accept never touches the moments; finalize does
    expectClose(values(agg2.finalize()), ROUND2);
  });

  it('finalize with nothing accepted → null, and the moments stay as they were', () => {
    const s = fedAdam(H);
    const empty1 = s.beginRound(ctx(1, [0, 0]));
    expect(empty1.accept(update('A', 1, 1, [Number.NaN, 0])).accepted).toBe(false);
    expect(empty1.finalize()).toBeNull();
    expect(s.moments).toBeNull(); // not even allocated

    expectClose(values(round1(s)), ROUND1);
    const before = snapshot(s);
    const empty2 = s.beginRound(ctx(2, [0.5, 0.5]));
    expect(empty2.finalize()).toBeNull();
    expect(empty2.finalize()).toBeNull();
    expect(snapshot(s)).toEqual(before);
    // The failed round left no trace: the next round is round 2 of the hand-worked example.
    expectClose(values(round2Agg(s).finalize()), ROUND2);
  });

  it('finalize takes the server step once: a second call returns the same result, later updates are refused', () => {
    const s = fedAdam(H);
    round1(s);
    const agg = round2Agg(s);
    const first = agg.finalize();
    const after = snapshot(s);
    expect(agg.finalize()).toBe(first);
    expect(snapshot(s)).toEqual(after);
    const late = agg.accept(update('C', 2, 5, [9, 9]));
    expect(late.accepted).toBe(false);
    if (!late.accepted) expect(late.code).toBe('E_STALE_ROUND');
    expect(agg.accepted).toBe(2);
    expectClose(values(agg.finalize()), ROUND2);
  });

  it('memory: one Float64Array for m and one for v per tensor, allocated once per run', () => {
    const c: RoundContext = {
      ...ctx(1, [0, 0, 0]),
      globalWeights: [
        { name: 'kernel', shape: [2, 3], data: new Float32Array(6) },
        { name: 'bias', shape: [3], data: new Float32Array(3) },
      ],
    };
    const u = (siteId: string, round: number): SiteUpdate => ({
      ...update(siteId, round, 2, []),
      weights: [
        { name: 'kernel', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
        { name: 'bias', shape: [3], data: new Float32Array([-1, 0, 1]) },
      ],
    });
    const s = fedAdam(H);
    const agg = s.beginRound(c);
    agg.accept(u('A', 1));
    const r1 = agg.finalize();
    const mo = s.moments!;
    expect(Object.keys(mo).sort()).toEqual(['m', 'specs', 'v']);
    for (const arrays of [mo.m, mo.v]) {
      expect(arrays.length).toBe(2);
      arrays.forEach((a) => expect(a).toBeInstanceOf(Float64Array));
      expect(arrays.map((a) => a.length)).toEqual([6, 3]);
    }
    expect(new Set([...mo.m, ...mo.v]).size).toBe(4);
    const [m0, v0] = [mo.m[0], mo.v[0]];

    const agg2 = s.beginRound({ ...c, round: 2, globalWeights: r1!.weights });
    agg2.accept(u('A', 2));
    agg2.finalize();
    expect(s.moments!.m[0]).toBe(m0); // updated in place, not reallocated
    expect(s.moments!.v[0]).toBe(v0);
    // The result never aliases the global model or the moments.
    expect(r1!.weights[0]!.data).not.toBe(c.globalWeights[0]!.data);
    expect(Array.from(c.globalWeights[0]!.data)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('Δ is taken from the float64 mean, not from a float32-rounded one', () => {
    // global [1]; A (n=1) sends 1, B (n=2) sends 1 + 2^-23 (the next float32 after 1).
    // float64 mean = 1 + (2/3)·2^-23 → Δ = (2/3)·2^-23 and m = 0.1·Δ (relative error ~1e-9 from the
    // cancellation in mean − 1). A mean rounded to float32 first would give 1 + 2^-23 → Δ = 2^-23,
    // 1.5 times too large.
    const s = fedAdam(H);
    const agg = s.beginRound(ctx(1, [1]));
    agg.accept(update('A', 1, 1, [1]));
    agg.accept(update('B', 1, 2, [1 + 2 ** -23]));
    agg.finalize();
    expect(s.moments!.m[0]![0]! / (0.1 * (2 / 3) * 2 ** -23)).toBeCloseTo(1, 6);
  });

  it('each instance is one run: two instances do not share state', () => {
    const a = fedAdam(H);
    const b = fedAdam(H);
    round1(a);
    expect(b.moments).toBeNull();
    expectClose(values(round1(b)), ROUND1);
    expectClose(values(round2Agg(a).finalize()), ROUND2);
    expectClose(a.moments!.m[0]!, [0.115, -0.03]);
    expectClose(b.moments!.m[0]!, [0.1, -0.2]);
  });

  it('refuses a model of another shape later in the same run', () => {
    const s = fedAdam(H);
    round1(s);
    expect(thrownCode(() => s.beginRound(ctx(2, [0, 0, 0])))).toBe('E_STRATEGY_STATE');
    expect(() => s.beginRound(ctx(2, [0, 0, 0]))).toThrow(/do not fit round 2's model: tensor w: expected shape \[2\], got \[3\]/);
  });

  it('options: overrides are used, out-of-bounds values are refused with E_BAD_REQUEST (the schema checks them)', () => {
    const s = fedAdam({ serverLr: 1, beta1: 0, beta2: 0, tau: 1 });
    // β1 = β2 = 0: m = Δ, v = Δ²; w = 0 + 1·Δ/(|Δ| + 1) = [1/2, −2/3]
    expectClose(values(round1(s)), [0.5, -2 / 3]);
    expect(s.hyperparameters).toEqual({ serverLr: 1, beta1: 0, beta2: 0, tau: 1 });
    for (const bad of [
      { serverLr: 0 },
      { serverLr: 11 },
      { serverLr: Number.NaN },
      { beta1: 1 },
      { beta1: -0.1 },
      { beta2: 1 },
      { tau: 0 },
      { tau: 2 },
      { tau: Number.POSITIVE_INFINITY },
    ]) {
      expect(thrownCode(() => fedAdam(bad)), JSON.stringify(bad)).toBe('E_BAD_REQUEST');
    }
  });
});

describe('FedAdam snapshot and resume', () => {
  // A two-tensor model and three rounds of three sites with seeded normal weights, so the float64
  // moments carry full 53-bit mantissas (a float32 copy of them would lose bits and show).
  const specs = [
    { name: 'dense0/kernel', shape: [3, 2] },
    { name: 'dense0/bias', shape: [2] },
  ];
  const rng = new Prng('fedadam-resume');
  const randomWeights = (): Weights => specs.map((s) => ({ ...s, shape: [...s.shape], data: Float32Array.from({ length: sizeOf(s.shape) }, () => rng.normal()) }));
  const initial = randomWeights();
  const sent = [1, 2, 3].map(() => ['A', 'B', 'C'].map((site, i) => ({ site, n: 10 + 7 * i, weights: randomWeights() })));

  /** Round r (1-based) from `global`: every site's update of that round, then finalize. */
  function runRound(s: FedAdamStrategy, r: number, global: Weights): Weights {
    const agg = s.beginRound({ runId: 'run-1', round: r, globalWeights: global, globalHash: GLOBAL_HASH, selected: new Set(['A', 'B', 'C']) });
    for (const u of sent[r - 1]!) {
      expect(agg.accept({ siteId: u.site, runId: 'run-1', round: r, baseModelHash: GLOBAL_HASH, numExamples: u.n, updateHash: 'c'.repeat(64), weights: u.weights })).toEqual({ accepted: true });
    }
    return agg.finalize()!.weights;
  }
  const bytes = (w: Weights): Buffer[] => w.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));

  it('is null before the first round that produced a model, and keeps nothing for FedAvg and FedProx', () => {
    expect(fedAdam(H).snapshot()).toBeNull();
    expect(createStrategy('fedavg', {}).snapshot()).toBeNull();
    expect(createStrategy('fedprox', { mu: 0.1 }).snapshot()).toBeNull();
  });

  it('rebuilt from the snapshot after round 2 (through the bytes the store keeps), round 3 gives the bit-identical model', () => {
    const whole = fedAdam(H);
    const w1 = runRound(whole, 1, initial);
    const w2 = runRound(whole, 2, w1);
    const saved = whole.snapshot()!;
    expect(saved.map((t) => [t.name, t.shape])).toEqual([
      ['m/dense0/kernel', [3, 2]],
      ['m/dense0/bias', [2]],
      ['v/dense0/kernel', [3, 2]],
      ['v/dense0/bias', [2]],
    ]);
    const stored = encodeFrame64({ kind: 'strategy-state' }, saved); // as store.commitRound keeps it
    const w3 = runRound(whole, 3, w2);

    // The snapshot is a copy: round 3 moved the live moments, not the saved ones.
    expect(Array.from(saved[0]!.data)).not.toEqual(Array.from(whole.moments!.m[0]!));
    const resumed = createStrategy('fedadam', H, decodeFrame64(stored).tensors) as FedAdamStrategy;
    const r3 = runRound(resumed, 3, w2);
    expect(bytes(r3)).toEqual(bytes(w3));
    expect(resumed.moments!.m.map((a) => Array.from(a))).toEqual(whole.moments!.m.map((a) => Array.from(a)));
    expect(resumed.moments!.v.map((a) => Array.from(a))).toEqual(whole.moments!.v.map((a) => Array.from(a)));

    // Without the saved moments round 3 is another model: the state is what made it identical.
    const fresh = runRound(fedAdam(H), 3, w2);
    expect(bytes(fresh)).not.toEqual(bytes(w3));
  });

  it('float32 moments would not do: the saved values use bits a float32 cannot hold', () => {
    const s = fedAdam(H);
    runRound(s, 1, initial);
    const saved = s.snapshot()!;
    expect(saved.some((t) => t.data.some((x) => Math.fround(x) !== x))).toBe(true);
  });

  it('a snapshot that does not fit is refused with E_STRATEGY_STATE, saying why', () => {
    const s = fedAdam(H);
    runRound(s, 1, initial);
    const good = () => s.snapshot()!;
    const refusal = (saved: ReturnType<typeof good>): string => {
      try {
        createStrategy('fedadam', H, saved).beginRound({ runId: 'run-1', round: 2, globalWeights: initial, globalHash: GLOBAL_HASH, selected: new Set(['A']) });
        return 'accepted';
      } catch (e) {
        return isFedrxError(e) ? `${e.code} ${e.message}` : String(e);
      }
    };
    const cases: Array<[string, (t: ReturnType<typeof good>) => ReturnType<typeof good>, RegExp]> = [
      ['no tensors', () => [], /hold 0 tensors/],
      ['v missing', (t) => t.slice(0, 3), /hold 3 tensors/],
      ['m renamed', (t) => [{ ...t[0]!, name: 'kernel' }, ...t.slice(1)], /tensor 0 is named kernel, not m\//],
      ['v of another tensor', (t) => [t[0]!, t[1]!, t[3]!, t[2]!], /tensor 2 is named v\/dense0\/bias, not v\/dense0\/kernel/],
      ['m and v shapes differ', (t) => [t[0]!, t[1]!, { ...t[2]!, shape: [2, 3] }, t[3]!], /m and v of dense0\/kernel differ in shape/],
      ['data shorter than its shape', (t) => [{ ...t[0]!, data: t[0]!.data.subarray(1) }, ...t.slice(1)], /holds 5 values for shape \[3,2\]/],
      ['a NaN moment', (t) => [t[0]!, { ...t[1]!, data: Float64Array.of(0, Number.NaN) }, ...t.slice(2)], /m\/dense0\/bias holds a non-finite value at 1/],
      ['a negative v', (t) => [...t.slice(0, 3), { ...t[3]!, data: Float64Array.of(-1e-9, 0) }], /v\/dense0\/bias holds a negative value at 0/],
      ['another model', (t) => t.map((x) => ({ ...x, name: x.name.replace('dense0', 'dense9') })), /do not fit round 2's model: tensor 0: expected name dense9\/kernel, got dense0\/kernel/],
      ['another shape', (t) => t.map((x) => (x.name.endsWith('bias') ? { ...x, shape: [1, 2] } : x)), /do not fit round 2's model: tensor dense0\/bias: expected shape \[1,2\], got \[2\]/],
    ];
    expect(refusal(good())).toBe('accepted');
    for (const [label, change, why] of cases) {
      const got = refusal(change(good()));
      expect(got, label).toMatch(/^E_STRATEGY_STATE /);
      expect(got, label).toMatch(why);
    }
  });

  it('a state given to a strategy that keeps none is refused with E_STRATEGY_STATE', () => {
    const s = fedAdam(H);
    runRound(s, 1, initial);
    expect(thrownCode(() => createStrategy('fedavg', {}, s.snapshot()))).toBe('E_STRATEGY_STATE');
    expect(thrownCode(() => createStrategy('fedprox', {}, []))).toBe('E_STRATEGY_STATE');
  });
});
