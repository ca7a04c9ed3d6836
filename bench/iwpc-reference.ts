// Reference accuracy on the real IWPC cohort, scored on the test patients of iwpcTestSplit (the
// patients the site agents hold out): a fixed 35 mg/week dose, the published IWPC 2009 formula,
// and least squares on sqrt(dose) with the formula's 17 features fitted on all training rows
// pooled in one place. Overall and per ancestry group.
//
//   node bin/run-ts.mjs bench/iwpc-reference.ts
//
// Missing height or weight: the pooled training mean (what the federated preprocessing does).
// VKORC1 -1639: the consensus call only, like the site models; the rows marked "VKORC1 imputed"
// also fill missing calls from linked SNPs with the IWPC rules.

import { iwpcWeeklyDose, RACE_LEVELS, type RaceLevel } from '../datasets/iwpc-formula.js';
import {
  IWPC_CSV,
  IWPC_FEATURE_NAMES,
  iwpcAvailable,
  iwpcBodySizeMeans,
  iwpcDose,
  iwpcFeatures,
  iwpcFormulaWeights,
  iwpcPatient,
  iwpcTestSplit,
  loadIwpc,
  type IwpcPatientOptions,
  type IwpcRecord,
} from '../datasets/iwpc.js';
import { addPrediction, emptySums, metricsFromSums, type RegressionSums } from '../shared/metrics.js';
import { leastSquares, predictLinear } from './least-squares.js';

type Group = 'all' | RaceLevel;
const GROUPS: readonly Group[] = ['all', ...RACE_LEVELS];

interface Model {
  name: string;
  predict: (r: IwpcRecord) => number;
}

function score(model: Model, test: readonly IwpcRecord[], opts: IwpcPatientOptions): Map<Group, RegressionSums> {
  const sums = new Map<Group, RegressionSums>(GROUPS.map((g) => [g, emptySums()]));
  for (const r of test) {
    const pred = model.predict(r);
    const y = iwpcDose(r);
    const race = iwpcPatient(r, opts).race;
    for (const g of ['all', race] as const) sums.set(g, addPrediction(sums.get(g)!, pred, y));
  }
  return sums;
}

/** Least squares on sqrt(dose): [intercept, ...17 weights]. */
function fitPooled(train: readonly IwpcRecord[], opts: IwpcPatientOptions): number[] {
  const x = train.map((r) => [1, ...iwpcFeatures(iwpcPatient(r, opts))]);
  const y = train.map((r) => Math.sqrt(iwpcDose(r)));
  return leastSquares(x, y);
}

const lsModel = (name: string, beta: readonly number[], opts: IwpcPatientOptions): Model => ({
  name,
  predict: (r) => predictLinear(beta, [1, ...iwpcFeatures(iwpcPatient(r, opts))]) ** 2,
});

async function main(): Promise<void> {
  if (!iwpcAvailable()) {
    console.log(`IWPC reference skipped: ${IWPC_CSV} is absent (see the project README on reference data).`);
    return;
  }
  const records = await loadIwpc();
  const split = iwpcTestSplit(records);
  const fill = iwpcBodySizeMeans(split.train);
  const consensus: IwpcPatientOptions = { fill };
  const imputed: IwpcPatientOptions = { fill, imputeVkorc1: true };

  const betaConsensus = fitPooled(split.train, consensus);
  const betaImputed = fitPooled(split.train, imputed);
  const runs: { model: Model; opts: IwpcPatientOptions }[] = [
    { model: { name: 'fixed 35 mg/week', predict: () => 35 }, opts: consensus },
    { model: { name: 'IWPC 2009 formula', predict: (r) => iwpcWeeklyDose(iwpcPatient(r, consensus)) }, opts: consensus },
    { model: lsModel('pooled least squares', betaConsensus, consensus), opts: consensus },
    {
      model: { name: 'formula, VKORC1 imputed', predict: (r) => iwpcWeeklyDose(iwpcPatient(r, imputed)) },
      opts: imputed,
    },
    { model: lsModel('pooled LS, VKORC1 imputed', betaImputed, imputed), opts: imputed },
  ];

  const unknownVk = (opts: IwpcPatientOptions): number =>
    split.test.filter((r) => iwpcPatient(r, opts).vkorc1 === 'unknown').length;
  console.log(`IWPC cohort: ${records.length} patients with dose and age, ${split.sites.length} sites`);
  console.log(
    `split: ${split.train.length} training, ${split.test.length} test (20% of every site, seed of iwpcTestSplit)`,
  );
  console.log(
    `missing height/weight filled with the training means ${fill.heightCm.toFixed(1)} cm / ${fill.weightKg.toFixed(1)} kg; ` +
      `test patients with unknown VKORC1: ${unknownVk(consensus)} (consensus), ${unknownVk(imputed)} (imputed)`,
  );
  console.log('');

  const header = ['model', 'group', 'n', 'MAE', 'PW20 %', 'R²', 'RMSE'];
  const lines: string[][] = [];
  for (const { model, opts } of runs) {
    const sums = score(model, split.test, opts);
    for (const g of GROUPS) {
      const m = metricsFromSums(sums.get(g)!);
      lines.push([g === 'all' ? model.name : '', g, String(m.n), m.mae.toFixed(2), m.pw20.toFixed(1), m.r2.toFixed(3), m.rmse.toFixed(2)]);
    }
  }
  printTable(header, lines, 2);

  console.log('\ncoefficients on sqrt(mg/week): published vs pooled least squares (consensus VKORC1)');
  const published = iwpcFormulaWeights();
  printTable(
    ['term', 'published', 'pooled LS'],
    ['intercept', ...IWPC_FEATURE_NAMES].map((name, i) => [name, published[i]!.toFixed(4), betaConsensus[i]!.toFixed(4)]),
    1,
  );
  console.log('\nREADME reference (its own split): fixed 12.85 / 32.9; formula 9.00 / 45.3; pooled LS 8.88 / 44.5 (MAE / PW20)');
}

/** Columns before `textColumns` are text (left-aligned), the rest numbers (right-aligned). */
function printTable(header: readonly string[], rows: readonly (readonly string[])[], textColumns: number): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: readonly string[]): string =>
    r.map((c, i) => (i < textColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(fmt(header));
  for (const r of rows) console.log(fmt(r));
}

await main();
