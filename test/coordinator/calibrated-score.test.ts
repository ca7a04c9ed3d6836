import { describe, expect, it } from 'vitest';
import { calibratedScore } from '../../coordinator/calibrated-score.js';
import type { Study } from '../../shared/study.js';
import { TINY_STUDY } from '../helpers/tiny-study.js';

// √dose standardised with mean 5, SD 2: ẑ = 0 is a dose of 25; ẑ ± 0.5 is √dose 4 … 6, i.e. 16 … 36.
const sqrtStudy: Study = { ...TINY_STUDY, target: { name: 'dose', transform: 'sqrt', unit: 'mg/week', min: 0.5, max: 400 } };
const prep = { rows: 10, numeric: { x1: { mean: 0, sd: 1 } }, target: { mean: 5, sd: 2 } };
const record = (quantile: number | null, kind: 'interval' | 'set' = 'interval') => ({ kind, coverage: 0.9, quantile, calibrationRows: 100, sites: 3 });

describe('calibratedScore', () => {
  it('maps the model-space interval back through the inverse transform: asymmetric in the unit', () => {
    const s = calibratedScore(sqrtStudy, prep, record(0.5), [0]);
    expect(s.prediction).toBeCloseTo(25, 12);
    expect(s.unit).toBe('mg/week');
    expect(s.interval!.lower).toBeCloseTo(16, 12);
    expect(s.interval!.upper).toBeCloseTo(36, 12);
    expect(s.interval!.coverage).toBe(0.9);
  });

  it('clips to the study target range, and an unbounded quantile gives the whole range', () => {
    // ẑ = −2.4: √dose 0.2 → dose 0.04; ẑ − 1 is below 0 on the √ scale → 0; both clipped to 0.5.
    expect(calibratedScore(sqrtStudy, prep, record(1), [-2.4]).interval).toMatchObject({ lower: 0.5 });
    expect(calibratedScore(sqrtStudy, prep, record(null), [0]).interval).toEqual({ lower: 0.5, upper: 400, coverage: 0.9 });
  });

  it('answers without an interval for a model committed before intervals existed', () => {
    expect(calibratedScore(sqrtStudy, prep, undefined, [0])).toEqual({ prediction: 25, unit: 'mg/week' });
  });

  it('classification: the set of classes with 1 − p̂ ≤ q', () => {
    const binary: Study = { ...TINY_STUDY, task: 'classification', target: { name: 'bleed', classes: ['no', 'yes'] } };
    const logit = Math.log(3); // p(yes) = 0.75
    expect(calibratedScore(binary, prep, record(0.3, 'set'), [logit])).toMatchObject({ prediction: 'yes', set: ['yes'], coverage: 0.9 });
    expect(calibratedScore(binary, prep, record(0.8, 'set'), [logit]).set).toEqual(['no', 'yes']);
    expect(calibratedScore(binary, prep, record(null, 'set'), [logit]).set).toEqual(['no', 'yes']);
    expect(calibratedScore(binary, prep, record(0.1, 'set'), [logit]).set).toEqual([]);
  });
});
