// `npm run bench:iwpc-validation`: what a validation part does to the IWPC federated arm. The
// federation runs in this process (the agents' trainer, the coordinator's strategies and
// best-round tracker, the same site splits as shared/holdout.ts), which reproduces the
// multi-process `bench:iwpc` figures for the same settings in a fraction of its time. Each
// configuration runs without a validation part (every training row trained on, last round kept)
// and with one (best round kept, early stopping), and is scored on the same 1,200 test patients.

import { parseArgs } from 'node:util';
import { initialBestRound, observeRound } from '../coordinator/rounds/best-round.js';
import { createStrategy } from '../coordinator/strategies/registry.js';
import { IWPC_CSV, iwpcAvailable, iwpcTestSplit, loadIwpc } from '../datasets/iwpc.js';
import { preprocessingOfRows } from '../shared/feature-stats.js';
import { loadStudyFile } from '../shared/load-study.js';
import { initialWeights } from '../shared/model-init.js';
import { denseLayers } from '../shared/model-spec.js';
import { deriveSeed, Prng } from '../shared/prng.js';
import { RUN_DEFAULTS } from '../coordinator/run-config-schema.js';
import { MAX_BATCH_SIZE, type TrainingSettings } from '../shared/run-config.js';
import { DEFAULT_MIN_ROWS, inputDim, outputDim } from '../shared/study.js';
import type { Weights } from '../shared/tensors.js';
import { loadTf } from '../site-agent/backend.js';
import { encodePart } from '../site-agent/local-data.js';
import { evaluateLocal, trainLocal } from '../site-agent/trainer.js';
import { extractAll, predictDose } from './iwpc-local.js';
import { IWPC_FEDAVG_ROUNDS, iwpcFedAvgSettings } from './iwpc-fedavg.js';
import { iwpcSiteParts } from './iwpc-site-parts.js';
import { scoreMethod, smallestSites } from './iwpc-scoring.js';

const { values: args } = parseArgs({
  options: {
    validation: { type: 'string', default: '0.2' },
    patience: { type: 'string', default: String(RUN_DEFAULTS.patience) },
  },
});

if (!iwpcAvailable()) {
  console.log(`IWPC cohort not found at ${IWPC_CSV}: nothing to benchmark (it lives in ../shared/datasets/iwpc/ beside the checkout).`);
  process.exit(0);
}

const study = loadStudyFile(new URL('../datasets/studies/warfarin-iwpc.json', import.meta.url).pathname);
const layers = denseLayers(study.model, inputDim(study), outputDim(study));
const records = await loadIwpc();
const split = iwpcTestSplit(records);
const small = smallestSites(split);
const { tf } = await loadTf();
const patience = Number(args.patience);

/** The bench:iwpc settings of each strategy; the seed of a site's round as its agent derives it. */
const CONFIGS = {
  'FedAdam linear': { strategy: 'fedadam', serverLr: 0.05, rounds: 100, settings: (): Omit<TrainingSettings, 'seed'> => ({ localEpochs: 1, lr: 0.5, lrDecay: 1, batchSize: MAX_BATCH_SIZE, optimizer: 'sgd' }) },
  'FedAvg linear': { strategy: 'fedavg', serverLr: undefined, rounds: IWPC_FEDAVG_ROUNDS, settings: iwpcFedAvgSettings },
} as const;

console.log(`IWPC: ${split.sites.length} sites, ${split.test.length} test patients; validation part ${args.validation} of each site's training part, patience ${patience}`);
const rows: string[] = [];
for (const [label, config] of Object.entries(CONFIGS)) {
  for (const fraction of [undefined, Number(args.validation)]) {
    const started = performance.now();
    const sites = iwpcSiteParts(study, split, fraction).filter((s) => s.fit.length >= (study.minRows ?? DEFAULT_MIN_ROWS));
    // The federated statistics equal the pooled ones over the rows trained on.
    const prep = preprocessingOfRows(study, sites.flatMap((s) => extractAll(study, s.fit)));
    const parts = sites.map((s) => ({ siteId: s.siteId, fit: encodePart(study, prep, extractAll(study, s.fit)), val: s.val.length > 0 ? encodePart(study, prep, extractAll(study, s.val)) : null }));
    const strategy = createStrategy(config.strategy, config.serverLr === undefined ? {} : { serverLr: config.serverLr });
    let global: Weights = initialWeights(study.model, inputDim(study), outputDim(study), 1);
    let best = initialBestRound();
    let kept = global;
    let ran = 0;
    let stop: string | null = null;
    for (let round = 1; round <= config.rounds && stop === null; round++) {
      const agg = strategy.beginRound({ runId: 'bench', round, globalWeights: global, globalHash: 'h', selected: new Set(parts.map((p) => p.siteId)) });
      for (const p of parts) {
        const seed = new Prng(deriveSeed(1, 'bench', round, p.siteId)).nextUint32();
        const r = await trainLocal(tf, study, layers, global, p.fit, { ...config.settings(round), seed });
        agg.accept({ siteId: p.siteId, runId: 'bench', round, baseModelHash: 'h', numExamples: r.numExamples, updateHash: 'u', weights: r.weights });
      }
      global = agg.finalize()!.weights;
      const scored = parts.flatMap((p) => (p.val === null ? [] : [evaluateLocal(tf, study, prep, layers, global, p.val)]));
      const n = scored.reduce((a, e) => a + e.numExamples, 0);
      const verdict = observeRound(best, round, n > 0 ? scored.reduce((a, e) => a + e.numExamples * e.loss, 0) / n : undefined, patience);
      best = verdict.state;
      if (best.bestRound === round) kept = global;
      ran = round;
      stop = verdict.stop;
    }
    const s = scoreMethod(label, split, small, (r) => predictDose(study, { prep, weights: kept }, r));
    const what = fraction === undefined ? 'none' : `${fraction * 100}%`;
    console.log(`  ${label}, validation ${what}: ${stop === null ? `ran all ${ran} rounds` : `stopped early after round ${ran} (${stop})`}; kept round ${best.bestRound}; ${((performance.now() - started) / 1000).toFixed(0)} s`);
    rows.push(`| ${label} | ${what} | ${sites.reduce((a, x) => a + x.fit.length, 0)} | ${ran} | ${best.bestRound} | ${s.all.mae.toFixed(2)} | ${s.all.pw20.toFixed(1)} | ${s.all.r2.toFixed(3)} |`);
  }
}
console.log('\n| method | validation | rows trained on | rounds run | round kept | MAE | PW20 % | R² |\n|---|---|---|---|---|---|---|---|');
console.log(rows.join('\n'));
