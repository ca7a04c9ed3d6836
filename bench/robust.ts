// `npm run bench:robust`: robust aggregation against hostile sites on IWPC's 22 sites. IN PROCESS:
// the sites' local training is the agents' own trainer and aggregation the coordinator's
// registered strategies, but there are no processes, sockets, signatures or ledger (22 agent
// processes × ~45 runs would take hours on two cores). bench:iwpc's FedAvg settings; 0%, 10% and
// 20% of the sites hostile (a seeded choice, 10% ⊂ 20%) under each attack of shared/byzantine;
// each run scored on the same 1,200 held-out patients as bench:iwpc.

import { mkdir, writeFile } from 'node:fs/promises';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { IterativeStrategyName, StrategyOptions } from '../coordinator/strategies/registry.js';
import { IWPC_CSV, iwpcAvailable, iwpcTestSplit, loadIwpc } from '../datasets/iwpc.js';
import { ATTACKS, isAttack, type Attack } from '../shared/byzantine/attacks.js';
import { preprocessingOfRows } from '../shared/feature-stats.js';
import { loadStudyFile } from '../shared/load-study.js';
import { initialWeights } from '../shared/model-init.js';
import { denseLayers } from '../shared/model-spec.js';
import { DEFAULT_MIN_ROWS, inputDim, outputDim } from '../shared/study.js';
import { loadTf } from '../site-agent/backend.js';
import { encodePart } from '../site-agent/local-data.js';
import { IWPC_FEDAVG_ROUNDS, iwpcFedAvgSettings } from './iwpc-fedavg.js';
import { extractAll, extractTestRow, predictRowDose } from './iwpc-local.js';
import { scoreMethod, smallestSites } from './iwpc-scoring.js';
import { iwpcSiteParts } from './iwpc-site-parts.js';
import { pickHostile, runInProcess, type InProcessEnv } from './robust-federation.js';
import { goalVerdict, robustTable, type RobustCell } from './robust-report.js';
import { lineChartSvg } from './svg-chart.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: String(IWPC_FEDAVG_ROUNDS) },
    fractions: { type: 'string', default: '0,0.1,0.2' },
    attacks: { type: 'string', default: ATTACKS.join(',') },
    strategies: { type: 'string', default: 'fedavg,median,trimmed-mean,multi-krum,centered-clipping' },
    // The registry's defaults, but Multi-Krum told of the 20% it must withstand: f = ⌊0.2·22⌋ = 4.
    'trim-beta': { type: 'string' },
    byzantine: { type: 'string', default: '4' },
    'clip-tau': { type: 'string' },
    out: { type: 'string', default: 'bench-out/robust' },
  },
});

if (!iwpcAvailable()) {
  console.log(`IWPC cohort not found at ${IWPC_CSV}: nothing to benchmark (it lives in ../shared/datasets/iwpc/ beside the checkout).`);
  process.exit(0);
}
// Two cores are shared: stay below interactive work.
setPriority(10);

const list = (s: string): string[] => s.split(',').map((x) => x.trim()).filter((x) => x !== '');
const fractions = list(args.fractions).map(Number);
const attacks = list(args.attacks).map((a) => {
  if (!isAttack(a)) throw new Error(`unknown attack ${a}: one of ${ATTACKS.join(', ')}`);
  return a;
});
const strategies = list(args.strategies) as IterativeStrategyName[];
/** The options given on the command line; the registry fills in the rest. */
function optionsOf(s: IterativeStrategyName): StrategyOptions {
  const given = (v: string | undefined, key: string): StrategyOptions => (v === undefined ? {} : { [key]: Number(v) });
  if (s === 'trimmed-mean') return given(args['trim-beta'], 'trimBeta');
  if (s === 'multi-krum') return given(args.byzantine, 'byzantine');
  if (s === 'centered-clipping') return given(args['clip-tau'], 'clipTau');
  return {};
}

const study = loadStudyFile(new URL('../datasets/studies/warfarin-iwpc.json', import.meta.url).pathname);
const layers = denseLayers(study.model, inputDim(study), outputDim(study));
const split = iwpcTestSplit(await loadIwpc());
const small = smallestSites(split);
const { tf, backend } = await loadTf();
const sites = iwpcSiteParts(study, split, undefined).filter((s) => s.fit.length >= (study.minRows ?? DEFAULT_MIN_ROWS));
// The federated statistics equal the pooled ones over the rows trained on.
const prep = preprocessingOfRows(study, sites.flatMap((s) => extractAll(study, s.fit)));
const env: InProcessEnv = {
  tf,
  study,
  layers,
  sites: sites.map((s) => ({ siteId: s.siteId, train: encodePart(study, prep, extractAll(study, s.fit)) })),
  init: initialWeights(study.model, inputDim(study), outputDim(study), 1),
  rounds: Number(args.rounds),
  settings: iwpcFedAvgSettings,
};
const ids = env.sites.map((s) => s.siteId);
// Each test patient extracted once; scored every round.
const testRows = new Map(split.test.map((r) => [r, extractTestRow(study, r)]));
const maeOf = (weights: InProcessEnv['init']): number => scoreMethod('', split, small, (r) => predictRowDose(study, { prep, weights }, testRows.get(r)!)).all.mae;

console.log(`bench:robust — IN PROCESS (the agents' trainer and the coordinator's strategies; no sockets, signatures or ledger), tfjs ${backend}`);
console.log(`IWPC: ${ids.length} sites, ${split.test.length} test patients; ${env.rounds} rounds of bench:iwpc's FedAvg settings (2 local Adam epochs, lr 0.05 × 0.9 a round)`);
console.log(`options (the registry's defaults unless given): ${strategies.map((s) => `${s} ${JSON.stringify(optionsOf(s))}`).join(', ')}`);

interface RunRecord extends RobustCell {
  hostileSites: string[];
  seconds: number;
  maePerRound: number[];
  /** Per round, how many hostile updates the rule excluded or clipped (Multi-Krum, centered clipping). */
  hostileSetAside: number[];
}
const runs: RunRecord[] = [];
/** A quarter into bench:iwpc's 40 rounds: clean runs are within 3% of their last MAE by then. */
const PEAK_FROM = Math.min(10, Number(args.rounds));
const plan: { attack: Attack | null; fraction: number }[] = [
  ...(fractions.includes(0) ? [{ attack: null, fraction: 0 }] : []),
  ...fractions.filter((f) => f > 0).flatMap((fraction) => attacks.map((attack) => ({ attack, fraction }))),
];
const started = performance.now();
for (const { attack, fraction } of plan) {
  const hostile = pickHostile(ids, Math.round(fraction * ids.length), 'bench:robust');
  for (const strategy of strategies) {
    const t0 = performance.now();
    const label = `${strategy}, ${attack === null ? 'no hostile site' : `${hostile.length} hostile (${hostile.join(' ')}) ${attack}`}`;
    const maePerRound: number[] = [];
    const hostileSetAside: number[] = [];
    await runInProcess(env, { strategy, options: optionsOf(strategy), hostile: new Set(hostile), attack }, ({ round, weights, robust }) => {
      maePerRound.push(maeOf(weights));
      const aside = [...(robust?.excluded ?? []), ...(robust?.clipped ?? [])].filter((x) => hostile.includes(x.siteId)).length;
      hostileSetAside.push(aside);
      if (round % 10 === 0 || round === env.rounds) console.log(`  ${label} round ${round}/${env.rounds}: MAE ${maePerRound.at(-1)!.toFixed(2)}`);
    });
    const seconds = (performance.now() - t0) / 1000;
    const mae = maePerRound.at(-1)!;
    runs.push({ strategy, attack, fraction, hostile: hostile.length, hostileSites: hostile, mae, seconds, maePerRound, hostileSetAside });
    console.log(`${label}: MAE ${mae.toFixed(2)}; ${seconds.toFixed(0)} s`);
  }
}

// Changes are against clean FedAvg (or the first strategy's clean run when FedAvg is not run).
const reference = strategies.includes('fedavg') ? 'fedavg' : strategies[0]!;
const robust = strategies.filter((s) => s !== 'fedavg');
console.log(`\nHeld-out MAE (mg/week) on ${split.test.length} patients, and its change against clean ${reference}; ${((performance.now() - started) / 60000).toFixed(1)} min in all:\n`);
console.log(robustTable(runs, strategies, attacks, fractions, reference));
const top = Math.max(...fractions);
const goal = (cells: readonly RobustCell[], what: string): void => {
  if (!(top > 0 && reference === 'fedavg' && robust.length > 0)) return;
  const verdict = goalVerdict(cells, robust, attacks, top, reference);
  console.log(`\nGoal at ${Math.round(top * 100)}% hostile sites (${what}): the best robust strategy within 5% of clean FedAvg while FedAvg degrades: ${verdict.holds ? 'HOLDS for every attack' : `met for ${verdict.met} of ${attacks.length} attacks`}`);
  for (const line of verdict.lines) console.log(`  ${line}`);
};
goal(runs, "the last round's model");
// The learning rate decays 0.9 a round, and with it every attack here (each is a multiple or the
// scale of an honest update): FedAvg can recover by the last round from damage done on the way.
const peaks = runs.map((r) => ({ ...r, mae: Math.max(...r.maePerRound.slice(PEAK_FROM - 1)) }));
console.log(`\nWorst held-out MAE from round ${PEAK_FROM} on (the damage on the way; an early stop or a run cut short would keep such a model), against clean ${reference}'s own:\n`);
console.log(robustTable(peaks, strategies, attacks, fractions, reference));
goal(peaks, `worst MAE from round ${PEAK_FROM} on`);
for (const r of runs.filter((x) => x.hostile > 0 && (x.strategy === 'multi-krum' || x.strategy === 'centered-clipping'))) {
  const total = r.hostileSetAside.reduce((a, b) => a + b, 0);
  console.log(`${r.strategy} under ${Math.round(r.fraction * 100)}% ${r.attack}: set aside ${total} of ${r.hostile * env.rounds} hostile updates`);
}

await mkdir(args.out, { recursive: true });
await writeFile(join(args.out, 'robust.json'), JSON.stringify({ backend, rounds: env.rounds, options: Object.fromEntries(strategies.map((s) => [s, optionsOf(s)])), runs }, null, 2));
for (const attack of attacks) {
  const at = runs.filter((r) => r.attack === attack && r.fraction === top);
  if (at.length === 0) continue;
  const clean = runs.find((r) => r.strategy === reference && r.attack === null);
  const svg = lineChartSvg({
    title: `IWPC, ${Math.round(top * 100)}% of sites hostile: ${attack}`,
    xLabel: 'round',
    yLabel: 'held-out MAE (mg/week)',
    series: at.map((r) => ({ label: r.strategy, points: r.maePerRound.map((y, i) => ({ x: i + 1, y })) })),
    references: clean === undefined ? [] : [{ label: `clean ${reference} ${clean.mae.toFixed(2)}`, y: clean.mae }],
  });
  await writeFile(join(args.out, `mae-per-round-${attack}.svg`), svg);
}
console.log(`\nwrote ${join(args.out, 'robust.json')} and one chart per attack (mae-per-round-ATTACK.svg)`);
