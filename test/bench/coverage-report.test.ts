import { describe, expect, it } from 'vitest';
import { chanceBand, coverageRows, formatCoverage } from '../../bench/coverage-report.js';

const item = (actual: number, lower: number, upper: number, site: string) => ({ actual, lower, upper, groups: { site } });

describe('coverage report', () => {
  it('counts rows inside their interval overall and per group, with mean widths', () => {
    const rows = coverageRows([item(5, 4, 6, 'a'), item(7, 4, 6, 'a'), item(1, 0, 2, 'b'), item(2, 2, 2, 'b')], ['site']);
    expect(rows).toEqual([
      { dimension: 'overall', group: 'all', n: 4, coverage: 75, meanWidth: 1.5 },
      { dimension: 'site', group: 'a', n: 2, coverage: 50, meanWidth: 2 },
      { dimension: 'site', group: 'b', n: 2, coverage: 100, meanWidth: 1 },
    ]);
  });

  it('lists every group more than the tolerance from nominal, and says which are within chance for their size', () => {
    expect(chanceBand(0.9, 100)).toBeCloseTo(5.88, 2);
    // a: 1 of 4 covered (−65 points, band ±29.4); b: 2 of 2 (+10, band ±41.6); overall 3 of 6 (−40, band ±24.0).
    const rows = coverageRows([item(5, 4, 6, 'a'), item(7, 4, 6, 'a'), item(8, 4, 6, 'a'), item(9, 4, 6, 'a'), item(1, 0, 2, 'b'), item(2, 2, 2, 'b')], ['site']);
    const text = formatCoverage('test', 0.9, rows);
    expect(text).toContain('| site a | 4 | 25.0 | -65.0 | 29.4 | 2.000 |');
    expect(text).toContain('overall 50.0% against 90.0%: goal ±3 points NOT MET');
    expect(text).toContain('groups more than 3 points from nominal: overall (n 6, 50.0%); site a (n 4, 25.0%); site b (n 2, 100.0%, within chance for its size)');
  });
});
