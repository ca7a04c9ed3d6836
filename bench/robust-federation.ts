// bench:robust's federation, in process: every site trains with the agents' own trainer
// (site-agent/trainer.ts) and the coordinator's registered strategy aggregates (beginRound,
// accept, finalize), with no sockets, signatures or ledger around them. Hostile sites train
// honestly, then send what shared/byzantine makes of their update.

import type { IterativeStrategyName, StrategyOptions } from '../coordinator/strategies/registry.js';
import { createStrategy } from '../coordinator/strategies/registry.js';
import type { RobustReport } from '../coordinator/strategies/types.js';
import { attackWeights, type Attack } from '../shared/byzantine/attacks.js';
import { deltaOf } from '../shared/byzantine/update-delta.js';
import type { DenseLayer } from '../shared/model-spec.js';
import { deriveSeed, Prng } from '../shared/prng.js';
import type { TrainingSettings } from '../shared/run-config.js';
import type { Study } from '../shared/study.js';
import type { Weights } from '../shared/tensors.js';
import type { Tf } from '../site-agent/backend.js';
import type { DataPart } from '../site-agent/local-data.js';
import { trainLocal } from '../site-agent/trainer.js';

export interface InProcessSite {
  siteId: string;
  train: DataPart;
}

export interface InProcessEnv {
  tf: Tf;
  study: Study;
  layers: readonly DenseLayer[];
  sites: readonly InProcessSite[];
  init: Weights;
  rounds: number;
  settings: (round: number) => Omit<TrainingSettings, 'seed'>;
}

export interface HostileRun {
  strategy: IterativeStrategyName;
  options: StrategyOptions;
  /** Sites that attack, every round. */
  hostile: ReadonlySet<string>;
  attack: Attack | null;
}

export interface RoundOutcome {
  round: number;
  weights: Weights;
  robust: RobustReport | undefined;
}

/** Runs every round; `onRound` sees each new global model. Returns the last one. */
export async function runInProcess(env: InProcessEnv, run: HostileRun, onRound: (r: RoundOutcome) => void): Promise<Weights> {
  const strategy = createStrategy(run.strategy, run.options);
  const n = env.sites.length;
  let global = env.init;
  for (let round = 1; round <= env.rounds; round++) {
    const trained = new Map<string, { weights: Weights; numExamples: number }>();
    for (const site of env.sites) {
      // The seed of a site's round as its agent derives it from the run.
      const seed = new Prng(deriveSeed(1, 'bench', round, site.siteId)).nextUint32();
      const r = await trainLocal(env.tf, env.study, env.layers, global, site.train, { ...env.settings(round), seed });
      trained.set(site.siteId, r);
    }
    // little-is-enough colluders see their own honest deltas (the paper's non-omniscient setting).
    const seen = run.attack === 'little-is-enough' ? [...run.hostile].map((id) => deltaOf(global, trained.get(id)!.weights)) : [];
    const agg = strategy.beginRound({ runId: 'bench', round, globalWeights: global, globalHash: 'h', selected: new Set(env.sites.map((s) => s.siteId)) });
    for (const site of env.sites) {
      const honest = trained.get(site.siteId)!;
      const weights =
        run.attack !== null && run.hostile.has(site.siteId)
          ? attackWeights(run.attack, global, honest.weights, { seed: deriveSeed('robust', round, site.siteId), sites: n, hostile: run.hostile.size, seen })
          : honest.weights;
      const verdict = agg.accept({ siteId: site.siteId, runId: 'bench', round, baseModelHash: 'h', numExamples: honest.numExamples, updateHash: 'u', weights });
      if (!verdict.accepted) throw new Error(`round ${round}: ${site.siteId}'s update refused: ${verdict.code} ${verdict.reason}`);
    }
    const result = agg.finalize();
    if (result === null) throw new Error(`round ${round}: nothing aggregated`);
    global = result.weights;
    onRound({ round, weights: global, robust: result.robust });
  }
  return global;
}

/** Seeded choice of `count` hostile sites; a smaller count is a prefix of a larger one, so 10% ⊂ 20%. */
export function pickHostile(siteIds: readonly string[], count: number, seed: string): string[] {
  return new Prng(deriveSeed(seed, 'hostile')).shuffle([...siteIds]).slice(0, count);
}
