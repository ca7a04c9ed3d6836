// Scores any method's predictions for the IWPC test patients the same way: overall, per
// ancestry group, on the 11 smallest sites, and per site (for the small-site comparison).

import { IWPC_COL, type IwpcRecord, type IwpcSplit } from '../datasets/iwpc.js';
import { emptySums, mergeSums, metricsFromSums, addPrediction, type RegressionMetrics, type RegressionSums } from '../shared/metrics.js';

export const ANCESTRY_GROUPS = ['White', 'Asian', 'Black', 'unknown'] as const;
export type AncestryGroup = (typeof ANCESTRY_GROUPS)[number];

export function ancestryOf(r: IwpcRecord): AncestryGroup {
  const race = r[IWPC_COL.race] ?? '';
  if (race === 'White' || race === 'Asian') return race;
  if (race === 'Black or African American') return 'Black';
  return 'unknown';
}

export const doseOf = (r: IwpcRecord): number => Number(r[IWPC_COL.dose]);

export interface MethodScore {
  method: string;
  all: RegressionMetrics;
  byAncestry: Record<AncestryGroup, RegressionMetrics>;
  smallSites: RegressionMetrics;
  /** MAE per site id, on that site's test patients. */
  bySite: Record<string, number>;
}

/** The 11 smallest sites by patients (the README's "sites with fewer than 220 patients"). */
export function smallestSites(split: IwpcSplit, k = 11): Set<string> {
  const sizes = split.sites.map((s) => ({ id: s.siteId, n: s.train.length + s.test.length }));
  return new Set(sizes.sort((a, b) => a.n - b.n).slice(0, k).map((s) => s.id));
}

/** `predict(record, siteId)` gives the method's dose for one test patient of that site. */
export function scoreMethod(method: string, split: IwpcSplit, small: Set<string>, predict: (r: IwpcRecord, siteId: string) => number): MethodScore {
  let all = emptySums();
  let smallSums = emptySums();
  const byAncestry = Object.fromEntries(ANCESTRY_GROUPS.map((g) => [g, emptySums()])) as Record<AncestryGroup, RegressionSums>;
  const bySite: Record<string, number> = {};
  for (const site of split.sites) {
    let siteSums = emptySums();
    for (const r of site.test) {
      const p = predict(r, site.siteId);
      siteSums = addPrediction(siteSums, p, doseOf(r));
      byAncestry[ancestryOf(r)] = addPrediction(byAncestry[ancestryOf(r)], p, doseOf(r));
    }
    all = mergeSums(all, siteSums);
    if (small.has(site.siteId)) smallSums = mergeSums(smallSums, siteSums);
    bySite[site.siteId] = metricsFromSums(siteSums).mae;
  }
  return {
    method,
    all: metricsFromSums(all),
    byAncestry: Object.fromEntries(ANCESTRY_GROUPS.map((g) => [g, metricsFromSums(byAncestry[g])])) as Record<AncestryGroup, RegressionMetrics>,
    smallSites: metricsFromSums(smallSums),
    bySite,
  };
}

/** On how many of `sites` the method's MAE is below the reference's. */
export function sitesBeaten(method: MethodScore, reference: MethodScore, sites: Set<string>): number {
  return [...sites].filter((s) => method.bySite[s]! < reference.bySite[s]!).length;
}

export function formatTable(scores: MethodScore[], localOnly: MethodScore | undefined, small: Set<string>): string {
  const header = ['method', 'MAE', 'PW20%', 'R²', ...ANCESTRY_GROUPS.map((g) => `MAE ${g}`), 'MAE 11 small', 'beats local (small)'];
  const rows = scores.map((s) => [
    s.method,
    s.all.mae.toFixed(2),
    s.all.pw20.toFixed(1),
    s.all.r2.toFixed(3),
    ...ANCESTRY_GROUPS.map((g) => (s.byAncestry[g].n > 0 ? s.byAncestry[g].mae.toFixed(2) : '–')),
    s.smallSites.mae.toFixed(2),
    localOnly === undefined || s === localOnly ? '' : `${sitesBeaten(s, localOnly, small)}/${small.size}`,
  ]);
  return textTable(header, rows);
}

/** MAE / PW20 % / R² of every method per ancestry group and on the small sites, one cell per group. */
export function formatGroupTable(scores: MethodScore[]): string {
  const cell = (m: RegressionMetrics): string => (m.n > 0 ? `${m.mae.toFixed(2)} / ${m.pw20.toFixed(1)} / ${m.r2.toFixed(2)}` : '–');
  const header = ['method', ...ANCESTRY_GROUPS.map((g) => `${g} (n=${scores[0]?.byAncestry[g].n ?? 0})`), `11 small sites (n=${scores[0]?.smallSites.n ?? 0})`];
  return textTable(header, scores.map((s) => [s.method, ...ANCESTRY_GROUPS.map((g) => cell(s.byAncestry[g])), cell(s.smallSites)]));
}

function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
