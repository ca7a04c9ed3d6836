// `npm run bench:iwpc`: the IWPC warfarin benchmark. Splits the real cohort by project site
// into 22 site CSVs, holds out a seeded 20% of each site's patients, runs 22 real agent
// processes against a real coordinator, and compares on the same test patients: fixed dose,
// the published IWPC formula, the centralised ceiling, local-only models and federated
// FedAvg / FedProx / FedAdam, linear and MLP. Writes a table (JSON) and MAE-per-round curves (SVG).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { IWPC_COL, iwpcBodySizeMeans, iwpcPatient, iwpcTestSplit, loadIwpc } from '../datasets/iwpc.js';
import { iwpcWeeklyDose } from '../datasets/iwpc-formula.js';
import { loadStudyFile } from '../shared/load-study.js';
import { MAX_BATCH_SIZE, type TrainingSettings } from '../shared/run-config.js';
import type { Study } from '../shared/study.js';
import { loadTf } from '../site-agent/backend.js';
import { runFederated, startIwpcFederation, type FederatedConfig, type FederatedResult } from './iwpc-federated.js';
import { fitModel, predictDose, type FittedModel } from './iwpc-local.js';
import { formatGroupTable, formatTable, scoreMethod, sitesBeaten, smallestSites, type MethodScore } from './iwpc-scoring.js';
import { lineChartSvg } from './svg-chart.js';
import { printIwpcCoverage, withoutCalibration } from './iwpc-coverage.js';
import { iwpcBenchDir } from './iwpc-bench-dir.js';
import { DEFAULT_CALIBRATION_FRACTION } from '../shared/holdout.js';
import { noiseForEpsilon } from '../shared/privacy/rdp.js';

const { values: args } = parseArgs({
  options: {
    // FedAvg and FedProx: a few local Adam epochs per round, learning rate decaying per round.
    rounds: { type: 'string', default: '40' },
    lr: { type: 'string', default: '0.05' },
    'lr-decay': { type: 'string', default: '0.9' },
    optimizer: { type: 'string', default: 'adam' },
    epochs: { type: 'string', default: '2' },
    mu: { type: 'string', default: '0.01' },
    // FedAdam: each site takes one full-batch gradient step per round and the server runs Adam on
    // the averaged step (Reddi et al.'s FedAdam with one local step): no client drift, and Adam's
    // per-weight scaling moves the rarely-set genotype weights as fast as the common ones.
    'server-rounds': { type: 'string', default: '100' },
    'server-lr': { type: 'string', default: '0.05' },
    // Share of each site's training part that validates (chooses the best round, stops early);
    // default: the study's own setting; 0 trains on the whole training part and keeps the last round.
    validation: { type: 'string' },
    patience: { type: 'string' },
    // Without a validation part: the share of each site's training part that calibrates the
    // intervals (default: the study's own, else 0.1). More rows tighten the coverage towards nominal.
    calibration: { type: 'string' },
    // DP-FedAvg arms (linear, FedAvg's local settings): one run per target ε, Z calibrated by the
    // RDP accountant for the run's rounds at q = 1 (every site every round) and δ = n^-1.1.
    'dp-epsilons': { type: 'string', default: '1,4,8' },
    'dp-clip': { type: 'string', default: '0.3' },
    'dp-rounds': { type: 'string', default: '20' },
    out: { type: 'string', default: 'bench-out/iwpc' },
    only: { type: 'string' },
  },
});

const out = iwpcBenchDir(args.out);
const t0 = performance.now();
const rounds = Number(args.rounds);
const shipped = loadStudyFile(new URL('../datasets/studies/warfarin-iwpc.json', import.meta.url).pathname);
const { validation: _shippedValidation, ...withoutValidation } = shipped;
const validated: Study =
  args.validation === undefined ? shipped : Number(args.validation) > 0 ? { ...shipped, validation: { fraction: Number(args.validation) } } : withoutValidation;
const linear: Study = args.calibration === undefined ? validated : { ...validated, calibration: { fraction: Number(args.calibration) } };
const mlp: Study = { ...linear, name: 'warfarin-iwpc-mlp', model: { type: 'mlp', hidden: [16], activation: 'relu' } };

const records = await loadIwpc();
const heldOut = iwpcTestSplit(records);
// Without a validation part each agent calibrates on 10% of its training part: the baselines below
// train on the same rows as the federated runs; the test patients are the same.
const split = withoutCalibration(heldOut, linear);
const small = smallestSites(heldOut);
console.log(
  `IWPC: ${records.length} patients, ${split.sites.length} sites; ${split.train.length} training, ${heldOut.train.length - split.train.length} calibrating, ${split.test.length} test patients (seeded 20% per site)`,
);
console.log(
  linear.validation === undefined
    ? `federated runs: no validation part (the last round is kept); ${100 * (linear.calibration?.fraction ?? DEFAULT_CALIBRATION_FRACTION)}% of each site's training part calibrates the intervals, the rest is trained on`
    : `federated runs: ${linear.validation.fraction * 100}% of each site's training part validates (best round kept, early stopping)`,
);

const scores: MethodScore[] = [];
const add = (s: MethodScore): void => {
  scores.push(s);
  console.log(`  ${s.method.padEnd(34)} MAE ${s.all.mae.toFixed(2)}  PW20 ${s.all.pw20.toFixed(1)}%  R² ${s.all.r2.toFixed(3)}`);
};

// Baselines that need no training.
add(scoreMethod('fixed 35 mg/week', split, small, () => 35));
const fill = iwpcBodySizeMeans(split.train);
add(scoreMethod('IWPC 2009 formula (published)', split, small, (r) => iwpcWeeklyDose(iwpcPatient(r, { fill }))));

// Centralised ceiling and local-only models, trained in this process with the agents' trainer.
const { tf, backend } = await loadTf();
console.log(`tfjs backend for in-process training: ${backend}`);
const central: TrainingSettings = { localEpochs: 60, lr: 0.01, lrDecay: 1, batchSize: 64, optimizer: 'adam', seed: 1 };
const localOnlyScores = new Map<string, MethodScore>();
for (const study of [linear, mlp]) {
  const kind = study.model.type;
  const pooled = await fitModel(tf, study, split.train, central);
  add(scoreMethod(`centralised ${kind} (pooled rows)`, split, small, (r) => predictDose(study, pooled, r)));
  const perSite = new Map<string, FittedModel>();
  for (const site of split.sites) perSite.set(site.siteId, await fitModel(tf, study, site.train, central));
  const local = scoreMethod(`local-only ${kind}`, split, small, (r, siteId) => predictDose(study, perSite.get(siteId)!, r));
  localOnlyScores.set(kind, local);
  add(local);
}

// Federated runs: 22 agent processes, one coordinator.
const configs: FederatedConfig[] = [];
for (const [study, kind] of [[linear, 'linear'], [mlp, 'mlp']] as const) {
  const optimizer = args.optimizer === 'sgd' ? 'sgd' : 'adam';
  const patience = args.patience === undefined ? {} : { patience: Number(args.patience) };
  const base = { study, rounds, localEpochs: Number(args.epochs), lr: Number(args.lr), lrDecay: Number(args['lr-decay']), optimizer, batchSize: 32, ...patience } as const;
  configs.push({ ...base, label: `FedAvg ${kind}`, strategy: 'fedavg' });
  configs.push({ ...base, label: `FedProx ${kind}`, strategy: 'fedprox', mu: Number(args.mu) });
  configs.push({
    ...base,
    label: `FedAdam ${kind}`,
    strategy: 'fedadam',
    rounds: Number(args['server-rounds']),
    localEpochs: 1,
    optimizer: 'sgd',
    lr: 0.5,
    lrDecay: 1,
    batchSize: MAX_BATCH_SIZE, // bigger than any IWPC site: one batch is the site's whole training part
    serverLr: Number(args['server-lr']),
  });
}
// DP runs: the sites are the units protected, so δ = n^-1.1 for the n site agents (δ ≥ 1/n is refused).
const dpDelta = split.sites.length ** -1.1;
const dpRounds = Number(args['dp-rounds']);
const dpEpsilons = args['dp-epsilons'] === '' ? [] : args['dp-epsilons'].split(',').map(Number);
for (const target of dpEpsilons) {
  const noiseMultiplier = noiseForEpsilon(target, dpDelta, 1, dpRounds);
  configs.push({
    study: linear, strategy: 'fedavg', rounds: dpRounds, localEpochs: Number(args.epochs), lr: Number(args.lr), lrDecay: Number(args['lr-decay']), optimizer: 'adam', batchSize: 32,
    label: `FedAvg linear DP ε=${target}`,
    dp: { noiseMultiplier, clip: Number(args['dp-clip']), delta: dpDelta },
  });
}
const wanted = args.only?.toLowerCase().split(',').map((w) => w.trim());
const selected = wanted === undefined ? configs : configs.filter((c) => wanted.some((w) => c.label.toLowerCase().includes(w)));
const fedStarted = performance.now();
const fed = await startIwpcFederation(join(out, 'federation'), records);
console.log(`federation up: coordinator + ${fed.agents.size} agent processes in ${((performance.now() - fedStarted) / 1000).toFixed(0)} s`);
const results: FederatedResult[] = [];
/** ε each DP run spent, as the ledger records it. */
const dpSpent = new Map<string, number>();
try {
  for (const config of selected) {
    console.log(`${config.label}: ${config.rounds} rounds`);
    if (config.dp !== undefined) console.log(`  DP-FedAvg: noise multiplier Z ${config.dp.noiseMultiplier.toFixed(3)}, clip C ${config.dp.clip}, δ ${config.dp.delta.toPrecision(3)}, ${config.rounds} rounds`);
    const result = await runFederated(fed, config, split.test, (line) => console.log(line));
    results.push(result);
    if (config.dp !== undefined) dpSpent.set(config.label, (await fed.clients.auditor.privacy()).runs.find((r) => r.runId === result.run.id)?.epsilon ?? NaN);
    add(scoreMethod(`federated ${config.label}`, split, small, (r) => result.predictions.get(r[IWPC_COL.subject]!)!));
  }
} finally {
  await fed.stop();
}

// The table, on the same 1,200 test patients for every method.
const fedScores = scores.filter((s) => s.method.startsWith('federated'));
console.log('\nAll methods on the same test patients (MAE in mg/week; small = the 11 smallest sites; last column: sites where the method beats local-only linear):');
console.log(formatTable(scores, localOnlyScores.get('linear'), small));
console.log('\nPer group: MAE (mg/week) / PW20 % / R²:');
console.log(formatGroupTable(scores));
for (const kind of ['linear', 'mlp'] as const) {
  const local = localOnlyScores.get(kind)!;
  for (const s of fedScores.filter((f) => f.method.endsWith(kind))) {
    console.log(`  ${s.method} beats local-only ${kind} on ${sitesBeaten(s, local, small)} of ${small.size} small sites`);
  }
}
// The calibrated intervals each federated run serves, checked on the same held-out patients.
const coverage = printIwpcCoverage(results, split, (line) => console.log(line));
const best = [...fedScores].sort((a, b) => a.all.mae - b.all.mae)[0];
if (best !== undefined) {
  const kind = best.method.endsWith('mlp') ? 'mlp' : 'linear';
  const ceiling = scores.find((s) => s.method === `centralised ${kind} (pooled rows)`)!;
  const beaten = sitesBeaten(best, localOnlyScores.get(kind)!, small);
  const gap = (best.all.mae / ceiling.all.mae - 1) * 100;
  console.log(
    `\nbest federated: ${best.method}: MAE ${best.all.mae.toFixed(2)} (target ≤ 8.80), PW20 ${best.all.pw20.toFixed(1)}% (target ≥ 46), ` +
      `${gap >= 0 ? '+' : ''}${gap.toFixed(2)}% MAE vs the centralised ${kind} ceiling (target within 1%), beats local-only on ${beaten}/${small.size} small sites (target ≥ 9)`,
  );
}

const dpResults = results.filter((r) => r.config.dp !== undefined);
if (dpResults.length > 0) {
  const plain = scores.find((s) => s.method === 'federated FedAvg linear');
  console.log(`\nAccuracy cost of differential privacy (client level, the ${split.sites.length} sites protected; same ${split.test.length} test patients):`);
  console.log('| run | target ε | ε on the ledger | δ | noise multiplier Z | clip C | rounds | MAE | PW20 % | R² |\n|---|---|---|---|---|---|---|---|---|---|');
  if (plain !== undefined) console.log(`| FedAvg linear, no DP | ∞ | – | – | – | – | ${rounds} | ${plain.all.mae.toFixed(2)} | ${plain.all.pw20.toFixed(1)} | ${plain.all.r2.toFixed(3)} |`);
  for (const r of dpResults) {
    const s = scores.find((x) => x.method === `federated ${r.config.label}`)!;
    const dp = r.config.dp!;
    console.log(`| ${r.config.label} | ${r.config.label.split('=')[1]} | ${dpSpent.get(r.config.label)?.toFixed(3)} | ${dp.delta.toPrecision(3)} | ${dp.noiseMultiplier.toFixed(3)} | ${dp.clip} | ${r.config.rounds} | ${s.all.mae.toFixed(2)} | ${s.all.pw20.toFixed(1)} | ${s.all.r2.toFixed(3)} |`);
  }
}

const seconds = (performance.now() - t0) / 1000;
writeFileSync(
  join(out, 'iwpc.json'),
  JSON.stringify(
    {
      patients: records.length,
      test: split.test.length,
      smallSites: [...small],
      seconds,
      methods: scores,
      coverage,
      federated: results.map((r) => ({
        label: r.config.label,
        runId: r.run.id,
        seconds: r.seconds,
        servedRound: r.run.bestRound,
        stopReason: r.run.stopReason,
        servedModel: r.run.rounds.find((x) => x.round === r.run.bestRound)?.modelHash,
        ...(r.config.dp === undefined ? {} : { dp: r.config.dp, epsilon: dpSpent.get(r.config.label) }),
        rounds: r.run.rounds.filter((x) => x.round > 0).map((x) => ({ round: x.round, ...x.metrics })),
      })),
    },
    null,
    2,
  ),
);
const formula = scores.find((s) => s.method.startsWith('IWPC'))!;
writeFileSync(
  join(out, 'mae-per-round.svg'),
  lineChartSvg({
    title: 'IWPC warfarin: federated MAE on the held-out patients, per round',
    xLabel: 'round',
    yLabel: 'MAE (mg/week)',
    series: results.map((r) => ({
      label: r.config.label,
      points: r.run.rounds.filter((x) => x.round > 0 && x.metrics.mae !== undefined).map((x) => ({ x: x.round, y: x.metrics.mae! })),
    })),
    references: [
      { label: `IWPC formula ${formula.all.mae.toFixed(2)}`, y: formula.all.mae },
      ...scores.filter((s) => s.method.startsWith('centralised')).map((s) => ({ label: `${s.method.replace(' (pooled rows)', '')} ${s.all.mae.toFixed(2)}`, y: s.all.mae })),
    ],
  }),
);
console.log(`\nwrote ${join(args.out, 'iwpc.json')} and ${join(args.out, 'mae-per-round.svg')}; benchmark took ${(seconds / 60).toFixed(1)} min`);
