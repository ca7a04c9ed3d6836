import { describe, expect, it } from 'vitest';
import { FedrxError } from '../../shared/errors.js';
import { forward } from '../../shared/forward.js';
import { denseLayers, weightSpecs } from '../../shared/model-spec.js';
import type { Weights } from '../../shared/tensors.js';

// 2-2-1 MLP. Kernels are [inputs, units] row-major: kernel[i * units + j].
//   W0 = [[1, -1], [2, 0.5]], b0 = [0.5, -3]
//   W1 = [[2], [7]],          b1 = [-1]
function weights(): Weights {
  return [
    { name: 'dense0/kernel', shape: [2, 2], data: new Float32Array([1, -1, 2, 0.5]) },
    { name: 'dense0/bias', shape: [2], data: new Float32Array([0.5, -3]) },
    { name: 'dense1/kernel', shape: [2, 1], data: new Float32Array([2, 7]) },
    { name: 'dense1/bias', shape: [1], data: new Float32Array([-1]) },
  ];
}

describe('forward', () => {
  const relu = denseLayers({ type: 'mlp', hidden: [2], activation: 'relu' }, 2, 1);

  it('the spec gives a 2-2-1 stack with a linear output', () => {
    expect(relu).toEqual([
      { name: 'dense0', inputs: 2, units: 2, activation: 'relu' },
      { name: 'dense1', inputs: 2, units: 1, activation: 'linear' },
    ]);
    expect(weightSpecs({ type: 'mlp', hidden: [2] }, 2, 1)).toEqual(weights().map((t) => ({ name: t.name, shape: t.shape })));
  });

  it('hand-computed relu pass for x = [1, 2]', () => {
    // h0 = relu(1·1 + 2·2 + 0.5) = 5.5;  h1 = relu(1·(−1) + 2·0.5 − 3) = relu(−3) = 0
    // y  = 5.5·2 + 0·7 − 1 = 10
    // (Without the relu: 11 − 21 − 1 = −11. With the kernel read transposed: h = [0, 0], y = −1.)
    const y = forward(relu, weights(), new Float32Array([1, 2]));
    expect(y).toBeInstanceOf(Float64Array);
    expect(Array.from(y)).toEqual([10]);
  });

  it('hand-computed relu pass for x = [-1, 3]: both hidden units active', () => {
    // h0 = relu(−1 + 6 + 0.5) = 5.5; h1 = relu(1 + 1.5 − 3) = relu(−0.5) = 0 → y = 10
    expect(Array.from(forward(relu, weights(), new Float32Array([-1, 3])))).toEqual([10]);
    // x = [0, 8]: h0 = 16.5, h1 = 4 − 3 = 1 → y = 33 + 7 − 1 = 39
    expect(Array.from(forward(relu, weights(), new Float32Array([0, 8])))).toEqual([39]);
  });

  it('tanh hidden layer and a linear model', () => {
    const tanh = denseLayers({ type: 'mlp', hidden: [2], activation: 'tanh' }, 2, 1);
    const y = forward(tanh, weights(), new Float32Array([1, 2]));
    expect(y[0]).toBeCloseTo(Math.tanh(5.5) * 2 + Math.tanh(-3) * 7 - 1, 12);
    const linear = denseLayers({ type: 'linear' }, 2, 1);
    const w: Weights = [
      { name: 'dense0/kernel', shape: [2, 1], data: new Float32Array([0.5, -2]) },
      { name: 'dense0/bias', shape: [1], data: new Float32Array([0.25]) },
    ];
    // 4·0.5 + 1·(−2) + 0.25 = 0.25
    expect(Array.from(forward(linear, w, new Float32Array([4, 1])))).toEqual([0.25]);
  });

  it('wrong input width or weight count → E_SHAPE_MISMATCH', () => {
    const codeOf = (f: () => unknown): string => {
      try {
        f();
        return 'no error';
      } catch (e) {
        return e instanceof FedrxError ? e.code : 'other';
      }
    };
    expect(codeOf(() => forward(relu, weights(), new Float32Array([1, 2, 3])))).toBe('E_SHAPE_MISMATCH');
    expect(codeOf(() => forward(relu, weights().slice(0, 3), new Float32Array([1, 2])))).toBe('E_SHAPE_MISMATCH');
    const badKernel = weights();
    badKernel[2] = { name: 'dense1/kernel', shape: [3, 1], data: new Float32Array([2, 7, 1]) };
    expect(codeOf(() => forward(relu, badKernel, new Float32Array([1, 2])))).toBe('E_SHAPE_MISMATCH');
    expect(codeOf(() => forward(relu, weights(), new Float32Array([1, 2])))).toBe('no error');
  });
});
