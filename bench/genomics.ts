// `npm run bench:genomics`: exact federated ridge on the GDSC2 cell-line panel (2,118 gene
// features, 14 lineage sites, six drugs), beside pooled ridge with the same penalty search,
// local-only ridge and the training mean, all on the same held-out lines; then a width-scaling
// table on synthetic data (bench/genomics-width.ts).

import Database from 'better-sqlite3';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalFederation } from '../cli/local-federation.js';
import { penaltyFromMetrics } from '../coordinator/rounds/exact/exact-result.js';
import { preprocessingOfRows } from '../shared/feature-stats.js';
import { decodeRegression } from '../shared/preprocess.js';
import { inputDim, isRegression, type Study } from '../shared/study.js';
import { decodeFrame } from '../shared/tensor-codec.js';
import { encodePart, loadSiteRows, type SiteRows } from '../site-agent/local-data.js';
import { draftStudy, DRUGS, gdsc2Available, GDSC2_CSV, HOLDOUT_SEED, writeGdsc2SiteCsvs } from './genomics-data.js';
import { runStudy } from '../shared/expand-study.js';
import { runWidthScaling } from './genomics-width.js';
import { pearson, poolParts, predictPart, ridgeInProcess, rmse } from './ridge-baselines.js';
import { coverageRows, formatCoverage, type CoverageRow } from './coverage-report.js';
import { calibratedScore } from '../coordinator/calibrated-score.js';
import type { ConformalRecord } from '../shared/conformal/federated-quantile.js';
import type { Preprocessing } from '../shared/feature-stats.js';
import type { DataPart } from '../site-agent/local-data.js';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: 'bench-out/genomics' },
    drugs: { type: 'string' },
    widths: { type: 'string', default: '2000,10000,50000' },
    'skip-gdsc2': { type: 'boolean', default: false },
  },
});

const out = resolve(args.out);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const t0 = performance.now();
const f = (x: number, d = 3): string => (Number.isFinite(x) ? x.toFixed(d) : '–');

interface DrugResult {
  drug: string;
  train: number;
  test: number;
  fed: { r: number; rmse: number; l2: number; seconds: number; bytesPerSite: number };
  pooled: { r: number; rmse: number; l2: number };
  local: { r: number; rmse: number };
  mean: { rmse: number };
  maxRelCoefDiff: number;
  /** The served intervals on the held-out lines, overall and per lineage site. */
  coverage: { nominal: number; calibrationRows: number; rows: CoverageRow[] } | null;
}

async function gdsc2(): Promise<DrugResult[]> {
  if (!gdsc2Available()) {
    console.log(`GDSC2 panel not found at ${GDSC2_CSV}: skipping the drug table (it lives in ../shared/datasets/gdsc2/ beside the checkout).`);
    return [];
  }
  const { sites } = writeGdsc2SiteCsvs(join(out, 'gdsc2', 'sites'));
  console.log(`GDSC2: ${sites.reduce((s, x) => s + x.rows, 0)} lines in ${sites.length} sites; held out per site: fedrx's seeded shuffle (shared/holdout.ts) with seed ${HOLDOUT_SEED}, 20% of the lines with the drug's response`);
  console.log(`starting a coordinator and ${sites.length} agent processes …`);
  const fed = await startLocalFederation(join(out, 'gdsc2'), sites.map((s) => ({ siteId: s.siteId, file: s.file })), { connectTimeoutMs: 600_000 });
  const results: DrugResult[] = [];
  try {
    const drugs = args.drugs === undefined ? [...DRUGS] : args.drugs.split(',');
    for (const drug of drugs) results.push(await oneDrug(await draftStudy(sites, drug, join(out, 'gdsc2')), drug, sites, fed));
  } finally {
    await fed.stop();
  }
  return results;

  async function oneDrug(draft: Study, drug: string, siteList: typeof sites, federation: typeof fed): Promise<DrugResult> {
    // Federated: 14 agents, an exact fit with the penalty chosen by federated 5-fold validation.
    const started = performance.now();
    const client = federation.clients['data-scientist'];
    const run = await client.startRun({ study: draft, minSites: siteList.length, roundTimeoutSec: 900, waitForSitesSec: 600 });
    const done = await client.follow(run.id, () => {}, 500);
    if (done.status !== 'completed') throw new Error(`${drug}: run ${done.id} ${done.status}: ${done.error ?? ''}`);
    const seconds = (performance.now() - started) / 1000;
    const fitRound = done.rounds.find((r) => r.round === 1 && r.status === 'committed')!;
    const db = new Database(federation.db, { readonly: true });
    const frame = (db.prepare('SELECT frame FROM models WHERE hash = ?').get(fitRound.modelHash) as { frame: Buffer }).frame;
    const conformalJson = (db.prepare('SELECT conformal_json FROM ledger WHERE idx = ?').get(fitRound.ledgerIndex) as { conformal_json: string | null }).conformal_json;
    db.close();
    const [kernel, bias] = decodeFrame(frame).weights;
    const fedPrep = done.preprocessing!;
    // The run's input list (feature groups expanded at round 0): the baselines read the same inputs.
    const study = runStudy(draft, fedPrep);
    if (!isRegression(study)) throw new Error('regression study expected');
    const d = inputDim(study);
    // The same rows and split each agent makes (site-agent/local-data.ts).
    const rows = new Map<string, SiteRows>();
    for (const s of siteList) rows.set(s.siteId, await loadSiteRows(s.file, study, { siteId: s.siteId }));
    const allTrain = [...rows.values()].flatMap((r) => r.train);
    const prep = preprocessingOfRows(study, allTrain);
    const pooledTrain = poolParts(siteList.map((s) => encodePart(study, prep, rows.get(s.siteId)!.train)), d);
    const test = poolParts(siteList.map((s) => encodePart(study, prep, rows.get(s.siteId)!.test)), d);
    const decode = (z: Float64Array): Float64Array => z.map((v) => decodeRegression(study.target, prep, v));

    const fedTest = poolParts(siteList.map((s) => encodePart(study, fedPrep, rows.get(s.siteId)!.test)), d);
    const fedPred = predictPart(fedTest, d, kernel!.data, bias!.data[0]!).map((v) => decodeRegression(study.target, fedPrep, v));

    const pooled = await ridgeInProcess(pooledTrain, d, 'auto', `pooled-${drug}`);
    const pooledPred = decode(predictPart(test, d, pooled.fit.w, pooled.fit.b));

    const localPred: number[] = [];
    const localActual: number[] = [];
    for (const s of siteList) {
      const r = rows.get(s.siteId)!;
      const lp = preprocessingOfRows(study, r.train);
      const tr = encodePart(study, lp, r.train);
      const te = encodePart(study, lp, r.test);
      const local = await ridgeInProcess(tr, d, 'auto', `local-${s.siteId}-${drug}`);
      predictPart(te, d, local.fit.w, local.fit.b).forEach((z, i) => {
        localPred.push(decodeRegression(study.target, lp, z));
        localActual.push(te.actual[i]!);
      });
    }
    const trainMean = pooledTrain.actual.reduce((s, v) => s + v, 0) / pooledTrain.n;

    const conformal = conformalJson === null ? undefined : (JSON.parse(conformalJson) as ConformalRecord);
    const coverage = conformal === undefined ? null : lineCoverage(study, fedPrep, conformal, siteList.map((s) => ({ siteId: s.siteId, test: encodePart(study, fedPrep, rows.get(s.siteId)!.test) })), kernel!.data, bias!.data[0]!);

    const penalty = penaltyFromMetrics(fitRound.metrics)!;
    // Coefficients: the federated fit against the pooled fit at the same penalty.
    const same = await ridgeInProcess(pooledTrain, d, penalty.l2, 'same');
    let num = 0;
    let den = 0;
    same.fit.w.forEach((w, j) => {
      num = Math.max(num, Math.abs(kernel!.data[j]! - w));
      den = Math.max(den, Math.abs(w));
    });
    num = Math.max(num, Math.abs(bias!.data[0]! - same.fit.b));
    const bytesPerSite = exactBytes(d, fitRound.sites.map((s) => s.numExamples ?? 0), penalty.folds);
    const res: DrugResult = {
      drug,
      train: pooledTrain.n,
      test: test.n,
      fed: { r: pearson(fedPred, test.actual), rmse: rmse(fedPred, test.actual), l2: penalty.l2, seconds, bytesPerSite },
      pooled: { r: pearson(pooledPred, test.actual), rmse: rmse(pooledPred, test.actual), l2: pooled.fit.lambda },
      local: { r: pearson(localPred, localActual), rmse: rmse(localPred, localActual) },
      mean: { rmse: rmse(new Float64Array(test.n).fill(trainMean), test.actual) },
      maxRelCoefDiff: num / den,
      coverage,
    };
    console.log(
      `  ${drug.padEnd(13)} ${res.train}/${res.test} lines, ${d} inputs  federated r ${f(res.fed.r)} RMSE ${f(res.fed.rmse)} (λ ${res.fed.l2.toPrecision(3)}, ${seconds.toFixed(1)} s)  pooled r ${f(res.pooled.r)} RMSE ${f(res.pooled.rmse)} (λ ${res.pooled.l2.toPrecision(3)})  local-only r ${f(res.local.r)}  mean RMSE ${f(res.mean.rmse)}  coef rel diff ${res.maxRelCoefDiff.toExponential(1)}`,
    );
    if (coverage !== null) console.log(formatCoverage(`  ${drug} (${coverage.calibrationRows} calibration lines)`, coverage.nominal, coverage.rows));
    return res;
  }
}

/** Each held-out line's served interval (the coordinator's own calibratedScore), per lineage site. */
function lineCoverage(study: Study, prep: Preprocessing, conformal: ConformalRecord, parts: { siteId: string; test: DataPart }[], w: ArrayLike<number>, b: number): NonNullable<DrugResult['coverage']> {
  const items = parts.flatMap(({ siteId, test }) =>
    Array.from(predictPart(test, w.length, w, b), (z, i) => {
      const { interval } = calibratedScore(study, prep, conformal, [z]);
      return { actual: test.actual[i]!, lower: interval!.lower, upper: interval!.upper, groups: { site: siteId } };
    }),
  );
  return { nominal: conformal.coverage, calibrationRows: conformal.calibrationRows, rows: coverageRows(items, ['site']) };
}

/** Coverage of every drug's intervals, overall, and the lineage sites more than 3 points off. */
function coverageTable(results: DrugResult[]): string {
  const lines = ['| drug | nominal % | calibration lines | held-out lines | coverage % | mean width (ln µM) | lineage sites within ±3 points | sites more than 3 points off (n, coverage %) |', '|---|---|---|---|---|---|---|---|'];
  for (const r of results) {
    if (r.coverage === null) continue;
    const [all, ...sites] = r.coverage.rows;
    const off = sites.filter((s) => Math.abs(s.coverage - 100 * r.coverage!.nominal) > 3);
    lines.push(
      `| ${r.drug} | ${f(100 * r.coverage.nominal, 0)} | ${r.coverage.calibrationRows} | ${all!.n} | ${f(all!.coverage, 1)} | ${f(all!.meanWidth, 2)} | ${sites.length - off.length}/${sites.length} | ${off.map((s) => `${s.group} (${s.n}, ${f(s.coverage, 0)})`).join(', ')} |`,
    );
  }
  return lines.join('\n');
}

/** Mean bytes of one site's statistics frame data (factors only). */
function exactBytes(d: number, rows: number[], folds: number): number {
  const per = rows.map((n) => {
    let b = 0;
    for (let k = 0; k < folds; k++) b += Math.min(Math.floor(n / folds) + (k < n % folds ? 1 : 0), d + 2) * (d + 2) * 8;
    return b;
  });
  return per.reduce((s, v) => s + v, 0) / Math.max(1, per.length);
}

function table(results: DrugResult[]): string {
  const lines = [
    '| drug | train/test lines | federated r | pooled ridge r | fed/pooled r | local-only r | federated RMSE | pooled RMSE | local-only RMSE | training-mean RMSE | λ federated | λ pooled | max rel. coef. diff (same λ) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.drug} | ${r.train}/${r.test} | ${f(r.fed.r)} | ${f(r.pooled.r)} | ${f((100 * r.fed.r) / r.pooled.r, 1)}% | ${f(r.local.r)} | ${f(r.fed.rmse)} | ${f(r.pooled.rmse)} | ${f(r.local.rmse)} | ${f(r.mean.rmse)} | ${r.fed.l2.toPrecision(3)} | ${r.pooled.l2.toPrecision(3)} | ${r.maxRelCoefDiff.toExponential(1)} |`,
    );
  }
  return lines.join('\n');
}

const drugResults = args['skip-gdsc2'] ? [] : await gdsc2();
if (drugResults.length > 0) {
  console.log('\n' + table(drugResults));
  console.log('\nCalibrated 90% intervals of the served models on the held-out lines:\n' + coverageTable(drugResults));
  const goalR = drugResults.every((r) => r.fed.r >= 0.95 * r.pooled.r);
  const goalRmse = drugResults.every((r) => r.fed.rmse < r.mean.rmse);
  console.log(`\ngoals: every drug ≥ 95% of the pooled-ridge Pearson: ${goalR ? 'yes' : 'NO'}; every RMSE below the training mean's: ${goalRmse ? 'yes' : 'NO'}; max relative coefficient difference ${Math.max(...drugResults.map((r) => r.maxRelCoefDiff)).toExponential(2)}`);
}
const widths = args.widths.split(',').filter((w) => w !== '').map(Number);
const widthRows = widths.length === 0 ? [] : await runWidthScaling(join(out, 'width'), widths, (line) => console.log(line));
writeFileSync(join(out, 'genomics.json'), JSON.stringify({ drugs: drugResults, widths: widthRows }, null, 2));
console.log(`\nwrote ${join(out, 'genomics.json')}; ${((performance.now() - t0) / 60000).toFixed(1)} min in all`);
