// The frame-size policy: a few KB before hello, control size after it, and what the open run's
// study and model need; a statistics report of any width fits the cap its study gets.

import { describe, expect, it } from 'vitest';
import { frameCap, statsReportBytes, UPDATE_HEADER_ALLOWANCE, updateFrameBytes, type FrameCapOptions } from '../../../coordinator/gateway/frame-caps.js';
import type { FeatureStats } from '../../../shared/feature-stats.js';
import type { Study } from '../../../shared/study.js';
import { PROTOCOL_VERSION } from '../../../shared/wire.js';
import { TINY_STUDY } from '../../helpers/tiny-study.js';

const o: FrameCapOptions = { helloBytes: 4096, controlBytes: 65536, maxBytes: 1e9 };

describe('frameCap', () => {
  it('holds every frame before hello to the hello size, whatever a run allows', () => {
    const run = { statsReportBytes: 5e6, updateFrameBytes: 4e8 };
    expect(frameCap('text', false, run, o)).toBe(4096);
    expect(frameCap('binary', false, run, o)).toBe(4096);
  });

  it('after hello: control size with no run; the run statistics size for text and its update size for binary', () => {
    expect(frameCap('text', true, null, o)).toBe(65536);
    expect(frameCap('binary', true, null, o)).toBe(65536);
    expect(frameCap('text', true, { statsReportBytes: 5e6 }, o)).toBe(5e6);
    expect(frameCap('binary', true, { statsReportBytes: 5e6 }, o)).toBe(65536); // no model yet
    expect(frameCap('binary', true, { statsReportBytes: 5e6, updateFrameBytes: 4e8 }, o)).toBe(4e8);
    expect(frameCap('text', true, { statsReportBytes: 100 }, o)).toBe(65536); // never below control size
  });

  it('never above the operator ceiling', () => {
    expect(frameCap('binary', true, { statsReportBytes: 0, updateFrameBytes: 4e8 }, { ...o, maxBytes: 1e6 })).toBe(1e6);
    expect(frameCap('text', false, null, { ...o, maxBytes: 1000 })).toBe(1000);
  });
});

describe('sizes from the run', () => {
  it('a study with a feature group: a report of 100,000 matched columns with 100-character names fits, in under 64 MB', () => {
    const study: Study = { ...TINY_STUDY, groups: [{ kind: 'numeric', match: '^probe_' }] };
    const expanded: Study = { ...TINY_STUDY, features: [...TINY_STUDY.features, ...Array.from({ length: 100_000 }, (_, i) => ({ kind: 'numeric' as const, name: `probe_${String(i).padStart(94, '0')}` }))] };
    const longest = widestReport(expanded).length;
    expect(statsReportBytes(study)).toBeGreaterThanOrEqual(longest);
    expect(statsReportBytes(study)).toBeLessThan(64 * 1024 * 1024);
  });

  it('an update frame: the weight bytes plus the header allowance', () => {
    const w = [
      { name: 'k', shape: [3, 2], data: new Float32Array(6) },
      { name: 'b', shape: [2], data: new Float32Array(2) },
    ];
    expect(updateFrameBytes(w)).toBe(32 + UPDATE_HEADER_ALLOWANCE);
  });

  /** The longest report a site could send: every count and sum as long as JSON writes them. */
  function widestReport(study: Study): string {
    const m = { count: Number.MAX_SAFE_INTEGER, sum: -1.7976931348623157e308, sumSq: 2.2250738585072014e-308 };
    const stats: FeatureStats = { rows: Number.MAX_SAFE_INTEGER, numeric: {}, levels: {}, target: m };
    for (const f of study.features) {
      if (f.kind === 'numeric') stats.numeric[f.name] = m;
      else stats.levels[f.name] = new Array<number>(f.kind === 'binary' ? 2 : f.levels.length).fill(Number.MAX_SAFE_INTEGER);
    }
    return JSON.stringify({ type: 'stats-report', v: PROTOCOL_VERSION, runId: 'r'.repeat(128), stats, signature: 'f'.repeat(128) });
  }

  it.each([
    ['the tiny study', TINY_STUDY],
    [
      'a study 50,000 features wide',
      {
        ...TINY_STUDY,
        features: [
          ...Array.from({ length: 49_990 }, (_, i) => ({ kind: 'numeric' as const, name: `gene_expression_${i}`, min: -1e6, max: 1e6 })),
          ...Array.from({ length: 10 }, (_, i) => ({ kind: 'categorical' as const, name: `lineage_${i}`, levels: Array.from({ length: 20 }, (_, j) => `l${j}`) })),
        ],
      },
    ],
  ])('a statistics report of %s fits its cap, within 3 times its longest size (plus 4 KB)', (_what, study: Study) => {
    const longest = widestReport(study).length;
    expect(statsReportBytes(study)).toBeGreaterThanOrEqual(longest);
    expect(statsReportBytes(study)).toBeLessThan(3 * longest + 4096);
  });
});
