import { describe, expect, it } from 'vitest';
import { thrownCode } from '../../../helpers/error-code.js';
import { buildRunConfig, resolveStudy } from '../../../../coordinator/http/run-config.js';

const linear = { ...resolveStudy('synthetic-warfarin'), model: { type: 'linear' as const } };

describe('run configuration with a penalty', () => {
  it('a grid or auto without a strategy is an exact fit of one round; --l2 lands in the study', () => {
    const c = buildRunConfig({ study: linear, l2: [0.1, 1], rounds: 7, folds: 4 });
    expect(c.strategy).toBe('exact');
    expect(c.rounds).toBe(1);
    expect(c.study.model.l2).toEqual([0.1, 1]);
    expect(c.strategyOptions.folds).toBe(4);
    expect(buildRunConfig({ study: { ...linear, model: { type: 'linear', l2: 'auto' } } }).strategy).toBe('exact');
    // One value keeps the default iterative strategy.
    expect(buildRunConfig({ study: linear, l2: 0.1 }).strategy).toBe('fedavg');
  });

  it('refuses a negative value, an empty grid, and an iterative strategy with a grid (E_BAD_PENALTY)', () => {
    expect(thrownCode(() => buildRunConfig({ study: linear, l2: [0.1, -1] }))).toBe('E_BAD_PENALTY');
    expect(thrownCode(() => buildRunConfig({ study: linear, l2: -0.5 }))).toBe('E_BAD_PENALTY');
    expect(thrownCode(() => buildRunConfig({ study: linear, l2: [] }))).toBe('E_BAD_PENALTY');
    expect(thrownCode(() => buildRunConfig({ study: linear, l2: 'auto', strategy: 'fedadam' }))).toBe('E_BAD_PENALTY');
    expect(thrownCode(() => buildRunConfig({ study: { ...linear, model: { type: 'linear', l2: [1, 2] } }, strategy: 'fedavg' }))).toBe('E_BAD_PENALTY');
  });

  it('refuses an exact fit of an MLP or of a multi-class study; takes a binary one', () => {
    expect(thrownCode(() => buildRunConfig({ study: 'synthetic-warfarin', strategy: 'exact' }))).toBe('E_BAD_REQUEST');
    // Ancestry becomes the target: the study no longer groups its figures by it.
    const { groupBy: _ancestry, ...ungrouped } = linear;
    const classify = (classes: string[]) => ({
      ...ungrouped,
      task: 'classification' as const,
      features: linear.features.filter((f) => f.name !== 'ancestry'),
      target: { name: 'ancestry', classes },
      metrics: ['accuracy' as const],
    });
    expect(() => buildRunConfig({ study: classify(['White', 'Asian', 'Black']), strategy: 'exact' })).toThrow(/multi-class/);
    expect(buildRunConfig({ study: classify(['White', 'Asian']), strategy: 'exact', l2: 0.1 }).strategy).toBe('exact');
  });
});
