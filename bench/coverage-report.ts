// Empirical coverage of calibrated prediction intervals on held-out rows: overall and per group
// (site, ancestry, lineage), beside the nominal level, with the groups where it is missed by more
// than the tolerance listed, never hidden. Pure: callers bring the rows and their intervals.

export interface CoverageItem {
  actual: number;
  lower: number;
  upper: number;
  /** The row's group in each dimension, e.g. { site: 'site-3', ancestry: 'Asian' }. */
  groups: Record<string, string>;
}

export interface CoverageRow {
  dimension: string;
  group: string;
  n: number;
  /** Share of rows inside their interval, in percent. */
  coverage: number;
  /** Mean interval width, in the target's unit. */
  meanWidth: number;
}

export const covers = (i: CoverageItem): boolean => i.actual >= i.lower && i.actual <= i.upper;

function rowOf(dimension: string, group: string, items: readonly CoverageItem[]): CoverageRow {
  const n = items.length;
  return {
    dimension,
    group,
    n,
    coverage: n === 0 ? NaN : (100 * items.filter(covers).length) / n,
    meanWidth: n === 0 ? NaN : items.reduce((s, i) => s + (i.upper - i.lower), 0) / n,
  };
}

/** Overall first, then each dimension's groups in the order first seen. */
export function coverageRows(items: readonly CoverageItem[], dimensions: readonly string[]): CoverageRow[] {
  const rows = [rowOf('overall', 'all', items)];
  for (const d of dimensions) {
    const by = new Map<string, CoverageItem[]>();
    for (const i of items) {
      const g = i.groups[d] ?? 'unknown';
      by.set(g, [...(by.get(g) ?? []), i]);
    }
    for (const [g, list] of by) rows.push(rowOf(d, g, list));
  }
  return rows;
}

/**
 * Half-width, in points, of the range a group of n rows lands in 95% of the time when its true
 * coverage is the nominal one (normal approximation to the binomial): a miss smaller than this is
 * what a group that size shows by chance.
 */
export const chanceBand = (nominal: number, n: number): number => 196 * Math.sqrt((nominal * (1 - nominal)) / n);

/** A markdown table and the groups more than `tolerance` points from nominal. */
export function formatCoverage(title: string, nominal: number, rows: readonly CoverageRow[], tolerance = 3): string {
  const pct = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '–');
  const lines = [
    `${title}: empirical coverage of the ${pct(100 * nominal)}% intervals on the held-out rows`,
    '| rows | n | coverage % | vs nominal (points) | chance band ± (points) | mean width |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const gap = r.coverage - 100 * nominal;
    lines.push(`| ${r.dimension === 'overall' ? 'overall' : `${r.dimension} ${r.group}`} | ${r.n} | ${pct(r.coverage)} | ${gap >= 0 ? '+' : ''}${pct(gap)} | ${pct(chanceBand(nominal, r.n))} | ${r.meanWidth.toPrecision(4)} |`);
  }
  const missed = rows.filter((r) => Math.abs(r.coverage - 100 * nominal) > tolerance);
  const overall = rows[0]!;
  lines.push(
    `overall ${pct(overall.coverage)}% against ${pct(100 * nominal)}%: goal ±${tolerance} points ${Math.abs(overall.coverage - 100 * nominal) <= tolerance ? 'met' : 'NOT MET'}`,
    missed.length === 0
      ? `every group within ±${tolerance} points`
      : `groups more than ${tolerance} points from nominal: ${missed
          .map((r) => `${r.dimension === 'overall' ? 'overall' : `${r.dimension} ${r.group}`} (n ${r.n}, ${pct(r.coverage)}%${Math.abs(r.coverage - 100 * nominal) <= chanceBand(nominal, r.n) ? ', within chance for its size' : ''})`)
          .join('; ')}`,
  );
  return lines.join('\n');
}
