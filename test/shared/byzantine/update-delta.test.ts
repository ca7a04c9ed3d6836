import { describe, expect, it } from 'vitest';
import { deltaOf, plusDelta } from '../../../shared/byzantine/update-delta.js';
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

describe('weights and deltas', () => {
  it('deltaOf flattens local − global in tensor order and plusDelta adds one back', () => {
    expect(Array.from(deltaOf(global, local))).toEqual([0.5, -1, 0.25]);
    const back = plusDelta(global, f32(0.5, -1, 0.25));
    expect(back.map((t) => [t.name, t.shape, Array.from(t.data)])).toEqual(local.map((t) => [t.name, t.shape, Array.from(t.data)]));
  });

  it('refuses weights of another shape', () => {
    const other: Weights = [{ name: 'dense0/kernel', shape: [3, 1], data: f32(1, 2, 3) }, global[1]!];
    expect(thrownCode(() => deltaOf(global, other))).toBe('E_SHAPE_MISMATCH');
    expect(thrownCode(() => plusDelta(global, f32(1, 2)))).toBe('E_SHAPE_MISMATCH');
  });
});
