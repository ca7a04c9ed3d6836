// The wasm backend in Node (the default when tfjs-node is absent): it must find its .wasm files
// on disk and compute what the cpu backend and shared/forward.ts compute.
import { describe, expect, it } from 'vitest';
import { forward } from '../../shared/forward.js';
import { denseLayers } from '../../shared/model-spec.js';
import type { Weights } from '../../shared/tensors.js';
import { loadTf } from '../../site-agent/backend.js';
import { Prng } from '../../shared/prng.js';
import { buildModel, disposeModel, predictRaw, setWeights } from '../../site-agent/tf-model.js';

describe('loadTf', () => {
  it('refuses an unknown FEDRX_TF_BACKEND, then recovers once it is fixed', async () => {
    process.env.FEDRX_TF_BACKEND = 'gpu';
    await expect(loadTf()).rejects.toMatchObject({ code: 'E_BAD_REQUEST', message: expect.stringContaining('node|wasm|cpu') });
    process.env.FEDRX_TF_BACKEND = 'wasm';
    const lines: string[] = [];
    const { tf, backend } = await loadTf((l) => lines.push(l));
    expect(backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tfjs backend: wasm \(forced by FEDRX_TF_BACKEND\), ready in \d+ ms$/);
    // Memoised: the same engine, no second log line.
    expect((await loadTf((l) => lines.push(l))).tf).toBe(tf);
    expect(lines).toHaveLength(1);
  });

  it('the wasm backend predicts what shared/forward.ts computes', async () => {
    const { tf } = await loadTf();
    const layers = denseLayers({ type: 'mlp', hidden: [32, 8], activation: 'tanh' }, 12, 3);
    const rRng = new Prng(5);
  const r = (): number => rRng.next();
    const weights: Weights = layers.flatMap((l) => [
      { name: `${l.name}/kernel`, shape: [l.inputs, l.units], data: Float32Array.from({ length: l.inputs * l.units }, () => r() - 0.5) },
      { name: `${l.name}/bias`, shape: [l.units], data: Float32Array.from({ length: l.units }, () => r() - 0.5) },
    ]);
    const n = 20;
    const x = Float32Array.from({ length: n * 12 }, () => 4 * (r() - 0.5));
    const model = buildModel(tf, layers);
    try {
      setWeights(model, weights);
      const got = predictRaw(model, x, n);
      for (let i = 0; i < n; i++) {
        const want = forward(layers, weights, x.subarray(i * 12, (i + 1) * 12));
        for (let j = 0; j < 3; j++) expect(Math.abs(got[i * 3 + j]! - want[j]!)).toBeLessThan(1e-5);
      }
    } finally {
      disposeModel(model);
    }
  });
});
