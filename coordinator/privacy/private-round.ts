// One training round of a DP run, the coordinator's side: what each site is told (clip, its own
// noise, what it needs to count its cost), the aggregator that clips, weighs every site once and
// adds the noise, and the privacy field of the round's ledger entry.

import type { EntryPrivacy } from '../../shared/privacy/entry-privacy.js';
import type { DpConfig, TaskDp } from '../../shared/privacy/dp-settings.js';
import { effectiveNoiseMultiplier, siteNoiseStd } from '../../shared/privacy/dp-settings.js';
import { entryFigures, tallyChain } from '../../shared/privacy/privacy-from-chain.js';
import { secureNormal } from '../../shared/privacy/secure-normal.js';
import type { LedgerEntry } from '../../shared/ledger.js';
import type { RunConfig } from '../run-config-schema.js';
import type { Store } from '../store/store.js';
import { PrivateSumAggregator } from '../strategies/private-sum.js';
import type { Aggregator, RoundContext } from '../strategies/types.js';
import { registeredSiteCount } from './run-admission.js';

export interface PrivateRound {
  /** The train request's `dp` field. */
  readonly task: TaskDp;
  /** The strategy's aggregator behind the clip check, weight 1 per site and the noise. */
  wrap(ctx: RoundContext, inner: Aggregator): Aggregator;
  /** The entry's privacy field once its participants are known: the figures the chain before it gives. */
  entryPrivacy(runId: string, round: number, participants: LedgerEntry['participants']): EntryPrivacy;
}

/**
 * null for a run without DP. `selected`: the sites asked to train this round. With secure
 * aggregation the noise is distributed: each site adds its share Z·C/√m inside its masked update
 * (the coordinator never holds a sum without it), the sites clip, and σ is what the shares that
 * reached the sum add up to.
 */
export function privateRound(store: Store, config: RunConfig, round: number, selected: number): PrivateRound | null {
  const dp: DpConfig | undefined = config.dp;
  if (dp === undefined) return null;
  const delta = dp.delta!;
  const distributed = config.secureAggregation !== undefined;
  // q = m/n: the round's share of the registered sites (see the README on what this assumes).
  const samplingRate = Math.min(1, selected / Math.max(1, registeredSiteCount(store)));
  const task: TaskDp = {
    clip: dp.clip,
    noiseStd: siteNoiseStd(dp, selected, distributed),
    noiseMultiplier: dp.noiseMultiplier,
    samplingRate,
    delta,
    roundsLeft: config.rounds - round + 1,
  };
  return {
    task,
    // A secure sum arrives clipped and noised by the sites, each weighted 1: nothing to add.
    wrap: (ctx, inner) => (distributed ? inner : new PrivateSumAggregator(ctx, inner, { clip: dp.clip, noiseStd: dp.noiseMultiplier * dp.clip }, secureNormal())),
    entryPrivacy: (runId, r, participants) =>
      entryFigures(tallyChain(store.ledger.inOrder()), { runId, round: r, participants }, {
        mechanism: distributed ? 'distributed-gaussian' : 'gaussian-sum',
        noiseMultiplier: dp.noiseMultiplier,
        sigma: distributed ? effectiveNoiseMultiplier(dp.noiseMultiplier, participants.length, selected) : dp.noiseMultiplier,
        clip: dp.clip,
        delta,
        samplingRate,
      }),
  };
}
