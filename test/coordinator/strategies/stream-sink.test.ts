// Chunked updates at the strategies (the chunk-wise entry point of the Aggregator contract): a
// complete stream gives exactly the one-frame result, a failed one leaves the aggregate as if it
// had never begun and no spool file behind, for the weighted-mean family (folded as chunks arrive),
// the robust rules (written into their buffer, spilled to disk past its budget) and an aggregator
// without the entry point (reassembled whole).

import { afterEach, describe, expect, it } from 'vitest';
import { createStrategy } from '../../../coordinator/strategies/registry.js';
import { openStream } from '../../../coordinator/strategies/stream-sink.js';
import type { Aggregator, ChunkSink, SiteUpdate } from '../../../coordinator/strategies/types.js';
import { readFlat } from '../../../shared/update-chunks.js';
import { specsOf } from '../../../shared/tensors.js';
import { countedTempFiles } from '../../helpers/counted-temp-files.js';
import { ctx, update, values } from './fixtures.js';

const leftovers = countedTempFiles();
afterEach(() => {
  delete process.env.FEDRX_ROBUST_BUFFER_MB;
});


function begin(agg: Aggregator, u: SiteUpdate): ChunkSink {
  const { weights, ...meta } = u;
  const opened = openStream(agg, { ...meta, tensors: specsOf(weights) });
  if (!opened.accepted) throw new Error(`${opened.code} ${opened.reason}`);
  return opened.sink;
}

/** Sends `u` in chunks of `size` values; `stopAfter` chunks then aborts, when given. */
function stream(agg: Aggregator, u: SiteUpdate, size: number, stopAfter?: number): boolean {
  const sink = begin(agg, u);
  const total = u.weights.reduce((n, t) => n + t.data.length, 0);
  for (let at = 0, i = 0; at < total; at += size, i++) {
    if (i === stopAfter) {
      sink.abort();
      return false;
    }
    const v = sink.acceptChunk(at, readFlat(u.weights, at, new Float32Array(Math.min(size, total - at))));
    if (!v.accepted) {
      sink.abort();
      return false;
    }
  }
  return sink.end().accepted;
}

// Values with exact binary sums, and ones that need rounding (0.1, 1/3).
const A = update('A', 10, [1, 2, 3], [4]);
const B = update('B', 30, [0.1, -2.5, 1 / 3], [8]);
const C = update('C', 7, [1e8, 0.3, -1 / 3], [0.7]);

describe('weighted mean family: folded chunk by chunk', () => {
  it.each(['fedavg', 'fedprox', 'fedadam'] as const)('%s: a streamed update gives exactly the one-frame result', (name) => {
    const whole = createStrategy(name, {}).beginRound(ctx());
    for (const u of [A, B, C]) expect(whole.accept(u).accepted).toBe(true);
    const chunked = createStrategy(name, {}).beginRound(ctx());
    expect(chunked.accept(A).accepted).toBe(true);
    expect(stream(chunked, B, 3)).toBe(true);
    expect(stream(chunked, C, 1)).toBe(true);
    expect(chunked.accepted).toBe(3);
    expect(values(chunked.finalize())).toEqual(values(whole.finalize()));
    expect(leftovers()).toEqual([]);
  });

  it('a stream that fails after some chunks were folded is subtracted back out: the aggregate is the others\'', () => {
    const agg = createStrategy('fedavg', {}).beginRound(ctx());
    expect(agg.accept(update('A', 10, [1, 2, 3], [4])).accepted).toBe(true);
    expect(stream(agg, update('B', 30, [5, 6, 7], [8]), 1, 3)).toBe(false);
    // Nothing of B counts: not its values, not its examples, and it may still send an update.
    expect(agg.accepted).toBe(1);
    expect(leftovers()).toEqual([]);
    expect(stream(agg, update('B', 30, [5, 6, 7], [8]), 2)).toBe(true);
    // (10·1 + 30·5)/40 = 4, (20 + 180)/40 = 5, (30 + 210)/40 = 6, (40 + 240)/40 = 7.
    expect(values(agg.finalize())).toEqual([[4, 5, 6], [7]]);
  });

  it('a chunk holding NaN is refused before it is folded, naming its flat index; a second stream of one site is refused', () => {
    const agg = createStrategy('fedavg', {}).beginRound(ctx());
    const sink = begin(agg, A);
    expect(sink.acceptChunk(0, new Float32Array([1, 2])).accepted).toBe(true);
    expect(sink.acceptChunk(2, new Float32Array([Number.NaN, 4]))).toMatchObject({ accepted: false, code: 'E_NON_FINITE', reason: expect.stringMatching(/flat index 2/) });
    const { weights, ...meta } = A;
    expect(openStream(agg, { ...meta, tensors: specsOf(weights) })).toMatchObject({ accepted: false, code: 'E_DUPLICATE_UPDATE' });
    expect(agg.accept(A)).toMatchObject({ accepted: false, code: 'E_DUPLICATE_UPDATE' });
    sink.abort();
    expect(agg.finalize()).toBeNull();
    expect(leftovers()).toEqual([]);
  });

  it('a stream is checked at its header as a whole update is: shapes, base model, run, round', () => {
    const agg = createStrategy('fedavg', {}).beginRound(ctx());
    const { weights: _w, ...meta } = A;
    const start = { ...meta, tensors: [{ name: 'w', shape: [4] }, { name: 'b', shape: [1] }] };
    expect(agg.beginStream!(start)).toMatchObject({ accepted: false, code: 'E_SHAPE_MISMATCH' });
    expect(agg.beginStream!({ ...start, tensors: specsOf(A.weights), baseModelHash: 'f'.repeat(64) })).toMatchObject({ accepted: false, code: 'E_BASE_MODEL' });
    expect(agg.beginStream!({ ...start, tensors: specsOf(A.weights), round: 3 })).toMatchObject({ accepted: false, code: 'E_STALE_ROUND' });
  });
});

describe('robust rules: written into their buffer', () => {
  it.each([['in memory', undefined], ['spilled to disk', '0']])('median, %s: streamed updates give the one-frame result; a failed stream is not among them', (_what, budget) => {
    if (budget !== undefined) process.env.FEDRX_ROBUST_BUFFER_MB = budget;
    const whole = createStrategy('median', {}).beginRound(ctx());
    for (const u of [A, B, C]) expect(whole.accept(u).accepted).toBe(true);
    const chunked = createStrategy('median', {}).beginRound(ctx());
    expect(stream(chunked, update('B', 30, [100, 100, 100], [100]), 1, 2)).toBe(false);
    expect(stream(chunked, B, 3)).toBe(true);
    expect(chunked.accept(A).accepted).toBe(true);
    expect(stream(chunked, C, 2)).toBe(true);
    expect(values(chunked.finalize())).toEqual(values(whole.finalize()));
    expect(leftovers()).toEqual([]);
  });
});

describe('an aggregator without the chunk-wise entry point', () => {
  it('gets the update reassembled whole at its end, and nothing of an aborted one', () => {
    const inner = createStrategy('fedavg', {}).beginRound(ctx());
    const seen: SiteUpdate[] = [];
    const plain: Aggregator = { accept: (u) => (seen.push(u), inner.accept(u)), get accepted() { return inner.accepted; }, finalize: () => inner.finalize() };
    expect(stream(plain, B, 2, 1)).toBe(false);
    expect(seen).toEqual([]);
    expect(stream(plain, B, 3)).toBe(true);
    expect(seen.map((u) => u.weights.map((t) => [...t.data]))).toEqual([B.weights.map((t) => [...t.data])]);
    expect(values(plain.finalize())).toEqual(B.weights.map((t) => [...t.data]));
  });
});
