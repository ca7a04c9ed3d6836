// bench:iwpc's check of the calibrated intervals: each federated run's served intervals on the
// 1,200 held-out patients, overall, per ancestry group and per site, against the nominal coverage.

import { IWPC_COL, type IwpcSplit } from '../datasets/iwpc.js';
import { calibrationSplit, DEFAULT_CALIBRATION_FRACTION, holdoutSplit } from '../shared/holdout.js';
import { DEFAULT_MIN_ROWS, type Study } from '../shared/study.js';
import { coverageRows, formatCoverage, type CoverageItem, type CoverageRow } from './coverage-report.js';
import type { FederatedResult } from './iwpc-federated.js';
import { ancestryOf, doseOf } from './iwpc-scoring.js';

export interface RunCoverage {
  label: string;
  nominal: number;
  calibrationRows: number | undefined;
  rows: CoverageRow[];
}

export function iwpcCoverage(result: FederatedResult, split: IwpcSplit): RunCoverage | null {
  const items: CoverageItem[] = [];
  let nominal: number | undefined;
  for (const site of split.sites) {
    for (const r of site.test) {
      const iv = result.intervals.get(r[IWPC_COL.subject]!);
      if (iv === undefined) return null;
      nominal = iv.coverage;
      items.push({ actual: doseOf(r), lower: iv.lower, upper: iv.upper, groups: { ancestry: ancestryOf(r), site: site.siteId } });
    }
  }
  if (nominal === undefined) return null;
  const served = result.run.rounds.find((x) => x.round === result.run.bestRound);
  return { label: result.config.label, nominal, calibrationRows: served?.metrics.calibrationRows, rows: coverageRows(items, ['ancestry', 'site']) };
}

/** Per run: the full table; then one line per run overall and per ancestry group, side by side. */
export function printIwpcCoverage(results: readonly FederatedResult[], split: IwpcSplit, log: (line: string) => void): RunCoverage[] {
  const all = results.flatMap((r) => {
    const c = iwpcCoverage(r, split);
    if (c === null) log(`${r.config.label}: the served model has no calibrated intervals`);
    return c === null ? [] : [c];
  });
  for (const c of all) log(`\n${formatCoverage(`federated ${c.label} (${c.calibrationRows ?? '?'} calibration rows)`, c.nominal, c.rows)}`);
  if (all.length > 0) {
    const groups = all[0]!.rows.filter((r) => r.dimension !== 'site');
    log('\nCoverage % of the served intervals on the held-out patients, overall and per ancestry group (n):');
    log(`| method | nominal | ${groups.map((g) => `${g.dimension === 'overall' ? 'overall' : g.group} (n=${g.n})`).join(' | ')} | sites within ±3 points |`);
    log(`|---|---|${groups.map(() => '---|').join('')}---|`);
    for (const c of all) {
      const sites = c.rows.filter((r) => r.dimension === 'site');
      const within = sites.filter((r) => Math.abs(r.coverage - 100 * c.nominal) <= 3).length;
      const cells = groups.map((g) => c.rows.find((r) => r.dimension === g.dimension && r.group === g.group)?.coverage.toFixed(1) ?? '–');
      log(`| federated ${c.label} | ${(100 * c.nominal).toFixed(0)} | ${cells.join(' | ')} | ${within}/${sites.length} |`);
    }
  }
  return all;
}

/**
 * The split without the rows each agent sets aside to calibrate (a study without a validation
 * part: DEFAULT_CALIBRATION_FRACTION of the training part, shared/holdout.ts), so the centralised
 * and local-only baselines train on exactly the rows the federated runs train on.
 */
export function withoutCalibration(split: IwpcSplit, study: Study): IwpcSplit {
  if (study.validation !== undefined) return split;
  const minRows = Math.max(1, study.minRows ?? DEFAULT_MIN_ROWS);
  const sites = split.sites.map((s) => {
    // The agent's indices: its training part in hold-out order, as iwpcTestSplit listed s.train.
    const { train } = holdoutSplit(s.train.length + s.test.length, study.holdout.fraction, study.holdout.seed, s.siteId);
    const { calibration } = calibrationSplit(train, study.calibration?.fraction ?? DEFAULT_CALIBRATION_FRACTION, study.holdout.seed, s.siteId, minRows);
    const aside = new Set(calibration);
    return { ...s, train: s.train.filter((_, k) => !aside.has(train[k]!)) };
  });
  return { train: sites.flatMap((s) => s.train), test: split.test, sites };
}
