import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { fedProx as descriptor, type FedProxStrategy } from '../../../coordinator/strategies/fedprox.js';
import { createStrategy, siteTaskOptions, type StrategyOptions } from '../../../coordinator/strategies/registry.js';
import type { Aggregator } from '../../../coordinator/strategies/types.js';
import { thrownCode } from '../../helpers/error-code.js';
import { ctx, update, values } from './fixtures.js';

const fedProx = (options: StrategyOptions = {}): FedProxStrategy => createStrategy('fedprox', options) as FedProxStrategy;
const fedAvg = createStrategy('fedavg', {});

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

  it('name and proximalMu: default 0.01, option honoured, 0 allowed; the sites get it in their task', () => {
    const s = fedProx();
    expect(s.name).toBe('fedprox');
    expect(Value.Default(descriptor.options, {})).toEqual({ mu: 0.01 });
    expect(s.proximalMu).toBe(0.01);
    expect(fedProx({}).proximalMu).toBe(0.01);
    expect(fedProx({ mu: 0.5 }).proximalMu).toBe(0.5);
    expect(fedProx({ mu: 0 }).proximalMu).toBe(0);
    expect(fedProx({ mu: 100 }).proximalMu).toBe(100);
    expect(fedProx({ serverLr: 3 }).proximalMu).toBe(0.01); // other strategies' options are ignored
    expect(siteTaskOptions('fedprox', { mu: 0.5 })).toEqual({ proximalMu: 0.5 });
    expect(siteTaskOptions('fedprox', {})).toEqual({ proximalMu: 0.01 });
    expect(siteTaskOptions('fedavg', { mu: 0.5 })).toEqual({ proximalMu: 0 });
    expect(siteTaskOptions('fedadam', {})).toEqual({ proximalMu: 0 });
    expect(siteTaskOptions('exact', {})).toEqual({ proximalMu: 0 });
  });

  it('an out-of-bounds mu is refused with E_BAD_REQUEST (by the schema, not by hand)', () => {
    for (const mu of [-0.001, 100.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(thrownCode(() => fedProx({ mu })), String(mu)).toBe('E_BAD_REQUEST');
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
