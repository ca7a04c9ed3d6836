import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { fedAdam } from '../../../coordinator/strategies/fedadam.js';
import { createFedAvg, fedAvg } from '../../../coordinator/strategies/fedavg.js';
import { FEDPROX_DEFAULT_MU, fedProx } from '../../../coordinator/strategies/fedprox.js';
import { STRATEGY_NAMES, StrategyOptionsSchema, createStrategy } from '../../../coordinator/strategies/index.js';
import type { IterativeStrategyName } from '../../../shared/run-config.js';
import type { Aggregator } from '../../../coordinator/strategies/types.js';
import { ctx, update, values } from './fixtures.js';

/** A, a NaN update from C (refused), B, then C's valid retry. */
function feed(agg: Aggregator): boolean[] {
  return [
    update('A', 1, [1, 2, 3], [10]),
    update('C', 50, [1, 1, Number.NaN], [1]),
    update('B', 3, [5, 6, 7], [20]),
    update('C', 4, [-4, 0, 2], [0]),
  ].map((u) => agg.accept(u).accepted);
}

describe('FedProx', () => {
  it('server side equals FedAvg on the same updates: (1·A + 3·B + 4·C)/8 = [0, 2.5, 4], [8.75]', () => {
    const prox = fedProx().beginRound(ctx());
    const avg = fedAvg.beginRound(ctx());
    expect(feed(prox)).toEqual([true, false, true, true]);
    expect(feed(avg)).toEqual([true, false, true, true]);
    const p = prox.finalize();
    const a = avg.finalize();
    expect(values(p)).toEqual([[0, 2.5, 4], [8.75]]);
    expect(values(p)).toEqual(values(a));
    expect(p?.totalExamples).toBe(8);
    expect(p?.contributors).toBe(3);
    expect(p?.weights.map((t) => [t.name, t.shape])).toEqual(a?.weights.map((t) => [t.name, t.shape]));
  });

  it('finalize with nothing accepted → null, like FedAvg', () => {
    const agg = fedProx({ mu: 1 }).beginRound(ctx());
    expect(agg.accept(update('D', 1, [1, 1, 1], [1])).accepted).toBe(false);
    expect(agg.finalize()).toBeNull();
  });

  it('name and proximalMu: default 0.01, option honoured, 0 allowed', () => {
    const s = fedProx();
    expect(s.name).toBe('fedprox');
    expect(FEDPROX_DEFAULT_MU).toBe(0.01);
    expect(s.proximalMu).toBe(0.01);
    expect(fedProx({}).proximalMu).toBe(0.01);
    expect(fedProx({ mu: 0.5 }).proximalMu).toBe(0.5);
    expect(fedProx({ mu: 0 }).proximalMu).toBe(0);
    expect(fedProx({ mu: 100 }).proximalMu).toBe(100);
    expect(fedProx({ serverLr: 3 }).proximalMu).toBe(0.01); // other strategies' options are ignored
  });

  it('an out-of-bounds mu throws RangeError', () => {
    for (const mu of [-0.001, 100.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => fedProx({ mu }), String(mu)).toThrow(RangeError);
    }
  });

  it('the mu does not change the server-side result', () => {
    const a = fedProx({ mu: 0 }).beginRound(ctx());
    const b = fedProx({ mu: 10 }).beginRound(ctx());
    feed(a);
    feed(b);
    expect(values(a.finalize())).toEqual(values(b.finalize()));
  });
});

describe('strategy registry', () => {
  it('createStrategy builds each named strategy, a fresh instance per call', () => {
    expect(STRATEGY_NAMES).toEqual(['fedavg', 'fedprox', 'fedadam', 'exact']);
    for (const name of ['fedavg', 'fedprox', 'fedadam'] as const) {
      const s = createStrategy(name, {});
      expect(s.name).toBe(name);
      expect(createStrategy(name, {})).not.toBe(s);
    }
    expect(createFedAvg({}).name).toBe('fedavg');
    const prox = createStrategy('fedprox', { mu: 0.2 });
    expect('proximalMu' in prox && prox.proximalMu).toBe(0.2);
  });

  it('fedadam runs created by name do not share moments', () => {
    const a = createStrategy('fedadam', {});
    const b = createStrategy('fedadam', {});
    const agg = a.beginRound(ctx());
    agg.accept(update('A', 1, [1, 2, 3], [10]));
    expect(agg.finalize()).not.toBeNull();
    expect((a as ReturnType<typeof fedAdam>).moments).not.toBeNull();
    expect((b as ReturnType<typeof fedAdam>).moments).toBeNull();
  });

  it('an unknown name (from untyped input) or a bad option throws RangeError', () => {
    expect(() => createStrategy('fedsgd' as IterativeStrategyName, {})).toThrow(RangeError);
    // 'exact' is no aggregator: the runner fits it from sufficient statistics.
    expect(() => createStrategy('exact' as IterativeStrategyName, {})).toThrow(RangeError);
    expect(() => createStrategy('toString' as IterativeStrategyName, {})).toThrow(RangeError);
    expect(() => createStrategy('fedadam', { beta2: 1 })).toThrow(RangeError);
    expect(() => createStrategy('fedprox', { mu: -1 })).toThrow(RangeError);
  });

  it('StrategyOptionsSchema: every option optional and bounded, nothing else allowed', () => {
    const ok = [{}, { mu: 0 }, { mu: 100 }, { serverLr: 10 }, { serverLr: 1e-9 }, { beta1: 0, beta2: 0.999 }, { tau: 1 }, { mu: 0.01, serverLr: 0.1, beta1: 0.9, beta2: 0.99, tau: 1e-3 }];
    const bad = [
      { mu: -0.1 },
      { mu: 100.1 },
      { serverLr: 0 },
      { serverLr: 10.5 },
      { beta1: 1 },
      { beta1: -0.1 },
      { beta2: 1 },
      { tau: 0 },
      { tau: 1.5 },
      { mu: '0.1' },
      { lr: 0.1 },
      null,
      [],
    ];
    for (const o of ok) expect(Value.Check(StrategyOptionsSchema, o), JSON.stringify(o)).toBe(true);
    for (const o of bad) expect(Value.Check(StrategyOptionsSchema, o), JSON.stringify(o)).toBe(false);
  });
});
