import { describe, expect, it } from 'vitest';
import { withBehaviour } from '../../simulator/site-behaviour.js';
import type { ComputeKind, ComputeResults, ComputeTasks, SiteCompute } from '../../site-agent/compute-tasks.js';
import type { Weights } from '../../shared/tensors.js';

const w = (...v: number[]): Weights => [{ name: 'w', shape: [v.length], data: Float32Array.from(v) }];

/** Trains to global + 1 everywhere. */
function plusOne(): SiteCompute & { trained: number } {
  const c = {
    trained: 0,
    backend: () => Promise.resolve('cpu'),
    close: () => Promise.resolve(),
    run<K extends ComputeKind>(kind: K, input: ComputeTasks[K]): Promise<ComputeResults[K]> {
      if (kind !== 'train') return Promise.reject(new Error(kind));
      c.trained++;
      const { global } = input as ComputeTasks['train'];
      return Promise.resolve({ weights: global.map((t) => ({ ...t, data: t.data.map((x) => x + 1) })), trainLoss: 0.5, numExamples: 10 } as ComputeResults[K]);
    },
  };
  return c;
}

const task = (global: Weights): ComputeTasks['train'] => ({ global } as unknown as ComputeTasks['train']);
const honest = { dropout: 0, straggleMs: 0, attack: null, seed: 's' };

describe('a virtual site behaving badly', () => {
  it('answers honestly when told nothing else', async () => {
    const b = withBehaviour(plusOne(), honest, { drop: () => {}, attack: null });
    expect([...(await b.run('train', task(w(1, 2)))).weights[0]!.data]).toEqual([2, 3]);
  });

  it('drops its link on the seeded share of its training tasks, without training them', async () => {
    const inner = plusOne();
    let drops = 0;
    const b = withBehaviour(inner, { ...honest, dropout: 0.3 }, { drop: () => drops++, attack: null });
    const outcomes = await Promise.all(Array.from({ length: 200 }, () => b.run('train', task(w(0))).then(() => 'ok', (e: { code: string }) => e.code)));
    expect(drops).toBe(outcomes.filter((o) => o === 'E_DISCONNECTED').length);
    expect(drops).toBeGreaterThan(40);
    expect(drops).toBeLessThan(80);
    expect(inner.trained).toBe(200 - drops);
  });

  it('answers late when a straggler', async () => {
    const b = withBehaviour(plusOne(), { ...honest, straggleMs: 120 }, { drop: () => {}, attack: null });
    const t0 = Date.now();
    await b.run('train', task(w(0)));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(110);
  });

  it('hands its honest weights and the global model to its attack and sends what the attack makes', async () => {
    const seen: number[][] = [];
    const b = withBehaviour(plusOne(), { ...honest, attack: 'sign-flip' }, {
      drop: () => {},
      attack: (global, trained) => {
        seen.push([...global[0]!.data], [...trained[0]!.data]);
        return Promise.resolve(w(-7));
      },
    });
    expect([...(await b.run('train', task(w(5)))).weights[0]!.data]).toEqual([-7]);
    expect(seen).toEqual([[5], [6]]);
  });
});
