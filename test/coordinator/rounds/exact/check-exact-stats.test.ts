import { describe, expect, it } from 'vitest';
import { thrownCode } from '../../../helpers/error-code.js';
import { checkExactStats, exactStatsBytes } from '../../../../coordinator/rounds/exact/check-exact-stats.js';
import { ExactStatsPhase } from '../../../../coordinator/rounds/exact/exact-stats-phase.js';
import type { SiteMessage } from '../../../../coordinator/rounds/phase.js';
import { hashStatistics64 } from '../../../../shared/model-hash.js';
import { Prng } from '../../../../shared/prng.js';
import type { NamedTensor64 } from '../../../../shared/tensors.js';
import type { ExactStatsHeader } from '../../../../shared/wire.js';
import { exactStatistics } from '../../../../site-agent/exact-stats.js';

const width = 4;
const rng = new Prng('check');
const n = 13;
const part = {
  n,
  x: Float32Array.from({ length: n * width }, () => rng.normal()),
  y: Float32Array.from({ length: n }, () => rng.normal()),
  actual: new Float64Array(n),
};
const base = 'a'.repeat(64);

function frame(folds: number, mutate?: (t: NamedTensor64[]) => void, headerPatch: Partial<ExactStatsHeader> = {}): { header: ExactStatsHeader; tensors: NamedTensor64[] } {
  const stats = exactStatistics(part, width, folds, 1, 'site-1', () => rng.normal());
  mutate?.(stats.tensors);
  const header: ExactStatsHeader = {
    v: 1,
    kind: 'exact-stats',
    dtype: 'float64',
    runId: 'run-1',
    round: 1,
    siteId: 'site-1',
    baseModelHash: base,
    updateHash: hashStatistics64(stats.tensors),
    numExamples: n,
    foldRows: stats.foldRows,
    signature: 'b'.repeat(128),
    tensors: stats.tensors.map(({ name, shape }) => ({ name, shape })),
    ...headerPatch,
  };
  return { header, tensors: stats.tensors };
}

const want = { width, folds: 3, minRows: 10 };

describe('checkExactStats', () => {
  it('accepts a site\'s honest statistics: one block per fold of min(rows, width+2) rows', () => {
    const { header, tensors } = frame(3);
    expect(header.foldRows).toEqual([5, 4, 4]);
    const f = checkExactStats(header, tensors, want);
    expect(f.folds.map((b) => b.length)).toEqual([5 * 6, 4 * 6, 4 * 6]);
    expect(exactStatsBytes(width, header.foldRows)).toBe(13 * 6 * 8);
    expect(exactStatsBytes(2000, [300, 300])).toBe(2 * 300 * 2002 * 8);
  });

  it('refuses the wrong number of folds, a wrong shape, a non-finite value, false row counts and a hash that does not match', () => {
    expect(thrownCode(() => checkExactStats(...args(frame(2)), want))).toBe('E_SHAPE_MISMATCH');
    const wrongShape = frame(3, (t) => {
      t[1] = { name: 'fold1', shape: [4, 5], data: t[1]!.data.subarray(0, 20) };
    });
    expect(thrownCode(() => checkExactStats(...args(wrongShape), want))).toBe('E_SHAPE_MISMATCH');
    const nan = frame(3, (t) => {
      t[2]!.data[3] = Number.NaN;
    });
    expect(thrownCode(() => checkExactStats(...args(nan), want))).toBe('E_NON_FINITE');
    const inf = frame(3, (t) => {
      t[0]!.data[0] = Number.POSITIVE_INFINITY;
    });
    expect(thrownCode(() => checkExactStats(...args(inf), want))).toBe('E_NON_FINITE');
    // Claims 14 rows but its ones column adds up to 13.
    expect(thrownCode(() => checkExactStats(...args(frame(3, undefined, { numExamples: 14, foldRows: [6, 4, 4] })), want))).toBe('E_SHAPE_MISMATCH');
    const scaled = frame(3, (t) => {
      for (let i = 0; i < t[0]!.data.length; i++) t[0]!.data[i]! *= 2;
    });
    expect(thrownCode(() => checkExactStats(...args(scaled), want))).toBe('E_BAD_EXAMPLES');
    expect(thrownCode(() => checkExactStats(...args(frame(3, undefined, { numExamples: 12 })), want))).toBe('E_BAD_EXAMPLES');
    expect(thrownCode(() => checkExactStats(...args(frame(3, undefined, { updateHash: 'c'.repeat(64) })), want))).toBe('E_HASH_MISMATCH');
    expect(thrownCode(() => checkExactStats(...args(frame(3)), { ...want, minRows: 20 }))).toBe('E_STATS_TOO_FEW_ROWS');
  });
});

describe('ExactStatsPhase', () => {
  it('records an accepted answer once, and a refused frame as the site\'s answer', async () => {
    const phase = new ExactStatsPhase('run-1', 1, base, want, {} as never, new Set(['site-1', 'site-2']), 60_000);
    const msg = (f: { header: ExactStatsHeader; tensors: NamedTensor64[] }): SiteMessage => ({ kind: 'exact-stats', ...f });
    expect(JSON.parse(phase.request)).toMatchObject({ type: 'exact-request', runId: 'run-1', round: 1, baseModelHash: base, folds: 3 });
    expect(phase.accept('site-1', msg(frame(3)))).toEqual({ accepted: true });
    expect(phase.accept('site-1', msg(frame(3)))).toMatchObject({ accepted: false, code: 'E_DUPLICATE_UPDATE' });
    expect(phase.accept('site-3', msg(frame(3)))).toMatchObject({ accepted: false, code: 'E_NOT_SELECTED' });
    expect(phase.accept('site-2', msg(frame(3, undefined, { baseModelHash: 'd'.repeat(64) })))).toMatchObject({ accepted: false, code: 'E_BASE_MODEL' });
    await phase.collector.done;
    const { answers, outcomes } = phase.results();
    expect(answers.map((a) => a.factors.siteId)).toEqual(['site-1']);
    expect(outcomes.map((o) => [o.siteId, o.status, o.code])).toEqual([
      ['site-1', 'accepted', undefined],
      ['site-2', 'rejected', 'E_BASE_MODEL'],
    ]);
  });
});

function args(f: { header: ExactStatsHeader; tensors: NamedTensor64[] }): [ExactStatsHeader, NamedTensor64[]] {
  return [f.header, f.tensors];
}
