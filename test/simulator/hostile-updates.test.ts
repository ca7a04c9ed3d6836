import { describe, expect, it } from 'vitest';
import { hostileUpdates } from '../../simulator/hostile-updates.js';
import { littleIsEnoughZ } from '../../shared/byzantine/little-is-enough.js';
import type { Weights } from '../../shared/tensors.js';

const w = (...v: number[]): Weights => [{ name: 'w', shape: [v.length], data: Float32Array.from(v) }];
const site = (attack: string | null, seed = 'x') => ({ dropout: 0, straggleMs: 0, attack, seed });
const values = (x: Weights): number[] => [...x[0]!.data];

describe("a pool's hostile sites", () => {
  it('are honest sites when they have no attack', () => {
    expect(hostileUpdates(0, 10).attackFor(site(null))).toBeNull();
  });

  it('flip and scale their change from the global model', async () => {
    const h = hostileUpdates(2, 10);
    expect(values(await h.attackFor(site('sign-flip'))!(w(1, 1), w(3, 0)))).toEqual([-1, 2]);
    expect(values(await h.attackFor(site('scale'))!(w(1, 1), w(3, 0)))).toEqual([21, -9]);
  });

  it('collude in "a little is enough": each waits for the others, then all send μ − z·σ of their honest changes', async () => {
    const h = hostileUpdates(2, 10);
    const global = w(0, 0);
    const [a, b] = await Promise.all([h.attackFor(site('little-is-enough', 'a'))!(global, w(1, 2)), h.attackFor(site('little-is-enough', 'b'))!(global, w(3, 2))]);
    const z = littleIsEnoughZ(10, 2);
    // Honest changes (1, 2) and (3, 2): mean (2, 2), sample σ (√2, 0).
    expect(values(a)[0]).toBeCloseTo(2 - z * Math.SQRT2, 5);
    expect(values(a)[1]).toBeCloseTo(2, 5);
    expect(values(b)).toEqual(values(a));
  });

  it('refuses an attack it does not know', () => {
    expect(() => hostileUpdates(1, 10).attackFor(site('gaslight'))).toThrow(/unknown attack/);
  });
});
