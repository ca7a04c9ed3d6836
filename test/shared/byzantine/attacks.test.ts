import { describe, expect, it } from 'vitest';
import { attackUpdate, attackWeights, ATTACKS, isAttack, SCALE_FACTOR } from '../../../shared/byzantine/attacks.js';
import { littleIsEnoughZ } from '../../../shared/byzantine/little-is-enough.js';
import { Prng } from '../../../shared/prng.js';
import type { Weights } from '../../../shared/tensors.js';
import { thrownCode } from '../../helpers/error-code.js';

const f32 = (...xs: number[]): Float32Array => Float32Array.from(xs);
const global: Weights = [
  { name: 'dense0/kernel', shape: [2, 1], data: f32(1, 2) },
  { name: 'dense0/bias', shape: [1], data: f32(0.5) },
];
const local: Weights = [
  { name: 'dense0/kernel', shape: [2, 1], data: f32(1.5, 1) },
  { name: 'dense0/bias', shape: [1], data: f32(0.75) },
];

describe('attackUpdate', () => {
  const delta = f32(0.5, -1, 0.25);

  it('sign-flip negates and scale multiplies by 10, leaving the input unchanged', () => {
    expect(Array.from(attackUpdate('sign-flip', delta))).toEqual([-0.5, 1, -0.25]);
    expect(SCALE_FACTOR).toBe(10);
    expect(Array.from(attackUpdate('scale', delta))).toEqual([5, -10, 2.5]);
    expect(Array.from(delta)).toEqual([0.5, -1, 0.25]);
  });

  it("noise draws N(0, σ²), σ the delta's root mean square, from the seeded stream", () => {
    // RMS of (0.5, −1, 0.25) = √(1.3125 / 3).
    const sd = Math.sqrt(1.3125 / 3);
    const rng = new Prng('site-3 round 2');
    const expected = Array.from({ length: 3 }, () => Math.fround(rng.normal(0, sd)));
    const out = attackUpdate('noise', delta, { seed: 'site-3 round 2' });
    expect(Array.from(out)).toEqual(expected);
    expect(Array.from(attackUpdate('noise', delta, { seed: 'site-3 round 2' }))).toEqual(expected);
    expect(Array.from(attackUpdate('noise', delta, { seed: 'site-4 round 2' }))).not.toEqual(expected);
    // Over many values the noise keeps the update's scale: RMS within 3% of the honest one.
    const big = Float32Array.from({ length: 20_000 }, (_, i) => (i % 2 === 0 ? 0.3 : -0.4));
    const noisy = attackUpdate('noise', big, { seed: 1 });
    const rms = (v: Float32Array): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    expect(Math.abs(rms(noisy) / rms(big) - 1)).toBeLessThan(0.03);
    expect(Array.from(attackUpdate('noise', f32(0, 0), { seed: 1 }))).toEqual([0, 0]);
  });

  it('little-is-enough sends μ − z·σ of the seen deltas with z from n and f', () => {
    const seen = [f32(1, 2), f32(3, 2), f32(5, 2)];
    const z = littleIsEnoughZ(22, 4);
    const out = attackUpdate('little-is-enough', f32(9, 9), { sites: 22, hostile: 4, seen });
    expect(out[0]).toBeCloseTo(3 - 2 * z, 6);
    expect(out[1]).toBe(2);
  });

  it('refuses missing context, a seen length unlike the update and an unknown attack', () => {
    expect(thrownCode(() => attackUpdate('noise', delta))).toBe('E_BAD_REQUEST');
    expect(thrownCode(() => attackUpdate('little-is-enough', delta, { sites: 22, hostile: 4 }))).toBe('E_BAD_REQUEST');
    expect(thrownCode(() => attackUpdate('little-is-enough', delta, { sites: 22, seen: [delta] }))).toBe('E_BAD_REQUEST');
    expect(thrownCode(() => attackUpdate('little-is-enough', f32(1), { sites: 22, hostile: 4, seen: [delta] }))).toBe('E_BAD_REQUEST');
    expect(thrownCode(() => attackUpdate('majority' as never, delta))).toBe('E_BAD_REQUEST');
  });

  it('names its attacks', () => {
    expect([...ATTACKS]).toEqual(['sign-flip', 'scale', 'noise', 'little-is-enough']);
    expect(isAttack('scale')).toBe(true);
    expect(isAttack('toString')).toBe(false);
  });

  it('attackWeights sends global plus the hostile delta', () => {
    // delta (0.5, −1 | 0.25) flipped: kernel (1, 2) + (−0.5, 1), bias 0.5 − 0.25.
    const bad = attackWeights('sign-flip', global, local);
    expect(bad.map((t) => Array.from(t.data))).toEqual([[0.5, 3], [0.25]]);
  });
});
