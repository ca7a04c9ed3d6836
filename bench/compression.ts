// `npm run bench:compression`: what compressed updates cost in accuracy and save in bytes, on the
// real IWPC cohort: 22 agent processes (one per IWPC site) and a real coordinator on loopback, the
// same FedAvg run with float32 updates (the baseline, same run of the bench), float16 and top-k at a
// few fractions (with error feedback). Bytes are the update frames the coordinator received, from
// each round's `updateBytes` metric; the payload column is the weights' share of them (4n, 2n or 8k
// bytes a site). Accuracy is on the same held-out test patients, through the clinicians' path.
//   node bin/run-ts.mjs bench/compression.ts [--rounds 20] [--fractions 0.1,0.01] [--model mlp|linear]

import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { textTable } from '../cli/text-table.js';
import { IWPC_COL, iwpcTestSplit, loadIwpc } from '../datasets/iwpc.js';
import { topkCount } from '../shared/compression/top-k.js';
import { loadStudyFile } from '../shared/load-study.js';
import { weightSpecs } from '../shared/model-spec.js';
import { inputDim, outputDim, type Study } from '../shared/study.js';
import { totalParams } from '../shared/tensors.js';
import { withoutCalibration } from './iwpc-coverage.js';
import { iwpcBenchDir } from './iwpc-bench-dir.js';
import { runFederated, startIwpcFederation, type FederatedConfig } from './iwpc-federated.js';
import { scoreMethod, smallestSites } from './iwpc-scoring.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    fractions: { type: 'string', default: '0.1,0.01' },
    model: { type: 'string', default: 'mlp' },
    out: { type: 'string', default: 'bench-out/compression' },
  },
});

const out = iwpcBenchDir(args.out);
const t0 = performance.now();
const rounds = Number(args.rounds);
const fractions = args.fractions.split(',').filter((f) => f !== '').map(Number);
const shipped = loadStudyFile(new URL('../datasets/studies/warfarin-iwpc.json', import.meta.url).pathname);
const study: Study = args.model === 'mlp' ? { ...shipped, name: 'warfarin-iwpc-mlp', model: { type: 'mlp', hidden: [16], activation: 'relu' } } : shipped;
// Feature groups would need the run's statistics; the IWPC study names its inputs one by one.
const params = totalParams(weightSpecs(study.model, inputDim(study), outputDim(study)));

const records = await loadIwpc();
const heldOut = iwpcTestSplit(records);
const split = withoutCalibration(heldOut, study);
const small = smallestSites(heldOut);
console.log(`IWPC: ${split.sites.length} sites, ${split.test.length} test patients; ${study.model.type} model of ${params} parameters; FedAvg, ${rounds} rounds per arm`);

// FedAvg's settings of bench:iwpc; only the compression differs between arms.
const base: Omit<FederatedConfig, 'label'> = { study, strategy: 'fedavg', rounds, localEpochs: 2, lr: 0.05, lrDecay: 0.9, optimizer: 'adam', batchSize: 32 };
const arms: { config: FederatedConfig; payload: number }[] = [
  { config: { ...base, label: 'float32' }, payload: 4 * params },
  { config: { ...base, label: 'float16', compression: { compression: 'float16' } }, payload: 2 * params },
  ...fractions.map((f) => ({
    config: { ...base, label: `top-k ${f * 100}%`, compression: { compression: 'topk' as const, topkFraction: f } },
    payload: 8 * topkCount(f, params),
  })),
];

const fedStarted = performance.now();
const fed = await startIwpcFederation(join(out, 'federation'), records);
console.log(`federation up: coordinator + ${fed.agents.size} agent processes in ${((performance.now() - fedStarted) / 1000).toFixed(0)} s`);
const rows: { label: string; bytes: number; payload: number; mae: number; pw20: number; seconds: number }[] = [];
try {
  for (const { config, payload } of arms) {
    console.log(`${config.label}: ${rounds} rounds`);
    const result = await runFederated(fed, config, split.test, (line) => console.log(line));
    const trained = result.run.rounds.filter((r) => r.round > 0 && r.metrics.updateBytes !== undefined);
    // Bytes per update: each round's total over the sites that sent one.
    const bytes = trained.reduce((s, r) => s + r.metrics.updateBytes! / r.metrics.sites!, 0) / trained.length;
    const score = scoreMethod(config.label, split, small, (r) => result.predictions.get(r[IWPC_COL.subject]!)!);
    rows.push({ label: config.label, bytes, payload, mae: score.all.mae, pw20: score.all.pw20, seconds: result.seconds });
  }
} finally {
  await fed.stop();
}

const f32 = rows[0]!;
console.log(`\nUpdate bytes and accuracy against float32 (${params} parameters, ${split.sites.length} sites, ${rounds} rounds; MAE in mg/week on ${split.test.length} test patients):`);
console.log(
  textTable(
    ['updates', 'bytes / update', 'ratio', 'payload bytes', 'payload ratio', 'MAE', 'ΔMAE', 'PW20 %', 'run s'],
    rows.map((r) => [
      r.label,
      r.bytes.toFixed(0),
      `${(r.bytes / f32.bytes).toFixed(3)}×`,
      String(r.payload),
      `${(r.payload / f32.payload).toFixed(3)}×`,
      r.mae.toFixed(2),
      `${r.mae >= f32.mae ? '+' : ''}${(r.mae - f32.mae).toFixed(2)}`,
      r.pw20.toFixed(1),
      r.seconds.toFixed(0),
    ]),
  ),
);
console.log(`\n(${((performance.now() - t0) / 60000).toFixed(1)} min in all)`);
