import { beforeAll, describe, expect, it } from 'vitest';
import { pickHostile, runInProcess, type InProcessEnv, type RoundOutcome } from '../../bench/robust-federation.js';
import { denseLayers } from '../../shared/model-spec.js';
import { Prng } from '../../shared/prng.js';
import { inputDim, outputDim, type Study } from '../../shared/study.js';
import type { Weights } from '../../shared/tensors.js';
import { loadTf } from '../../site-agent/backend.js';
import type { DataPart } from '../../site-agent/local-data.js';

process.env.FEDRX_TF_BACKEND ??= 'cpu';

const num = (name: string) => ({ kind: 'numeric' as const, name, min: -100, max: 100 });
const study: Study = {
  name: 'linear',
  task: 'regression',
  features: [num('x1'), num('x2')],
  target: { name: 'y', transform: 'identity', min: -1000, max: 1000 },
  model: { type: 'linear' },
  holdout: { fraction: 0.2, seed: 1 },
};
/** In model space y = 2·x1 − x2, no noise: the clean federation's kernel tends to (2, −1). */
function part(n: number, seed: string): DataPart {
  const rng = new Prng(seed);
  const x = Float32Array.from({ length: 2 * n }, () => rng.normal());
  const y = Float32Array.from({ length: n }, (_, i) => 2 * x[2 * i]! - x[2 * i + 1]!);
  return { x, y, actual: Float64Array.from(y), n };
}
const distance = (w: Weights): number => Math.hypot(w[0]!.data[0]! - 2, w[0]!.data[1]! + 1, w[1]!.data[0]!);

let env: InProcessEnv;
beforeAll(async () => {
  const { tf } = await loadTf();
  const layers = denseLayers(study.model, inputDim(study), outputDim(study));
  env = {
    tf,
    study,
    layers,
    sites: ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => ({ siteId: id, train: part(30, id) })),
    init: layers.flatMap((l) => [
      { name: `${l.name}/kernel`, shape: [l.inputs, l.units], data: new Float32Array(l.inputs * l.units) },
      { name: `${l.name}/bias`, shape: [l.units], data: new Float32Array(l.units) },
    ]),
    rounds: 6,
    settings: () => ({ localEpochs: 2, lr: 0.3, lrDecay: 1, batchSize: 30, optimizer: 'sgd' }),
  };
});

describe('bench:robust in-process federation', () => {
  it('picks hostile sites by seed, a smaller count a prefix of a larger one', () => {
    const ids = Array.from({ length: 22 }, (_, i) => `s${i}`);
    const four = pickHostile(ids, 4, 'x');
    expect(new Set(four).size).toBe(4);
    expect(pickHostile(ids, 2, 'x')).toEqual(four.slice(0, 2));
    expect(pickHostile(ids, 4, 'x')).toEqual(four);
    expect(pickHostile(ids, 4, 'y')).not.toEqual(four);
  });

  it("a scaled hostile site drags FedAvg away; Multi-Krum excludes it every round and stays near the clean run", async () => {
    const clean = await runInProcess(env, { strategy: 'fedavg', options: {}, hostile: new Set(), attack: null }, () => {});
    const attacked = await runInProcess(env, { strategy: 'fedavg', options: {}, hostile: new Set(['c']), attack: 'scale' }, () => {});
    const rounds: RoundOutcome[] = [];
    const krum = await runInProcess(env, { strategy: 'multi-krum', options: { byzantine: 1 }, hostile: new Set(['c']), attack: 'scale' }, (r) => rounds.push(r));
    expect(distance(clean)).toBeLessThan(0.5);
    expect(distance(attacked)).toBeGreaterThan(3 * distance(clean));
    expect(distance(krum)).toBeLessThan(1.5 * distance(clean));
    expect(rounds.map((r) => r.round)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rounds.map((r) => r.robust?.excluded.map((e) => e.siteId))).toEqual(rounds.map(() => ['c']));
  });
});
