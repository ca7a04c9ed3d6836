// A site's own privacy budget (`fedrx agent --max-epsilon E`): before it trains, the agent adds up
// from its replica what its data has spent in every private round it took part in, composes the
// rounds this run still asks of it (the train request's dp field), and refuses the task
// (E_SITE_MAX_EPSILON) if that would pass E. Training without DP, and exact fits, whose cost is
// unbounded, are refused outright. Statistics and evaluations are not training and are answered.

import type { LedgerEntry } from '../shared/ledger.js';
import type { TaskDp } from '../shared/privacy/dp-settings.js';
import { tallyChain } from '../shared/privacy/privacy-from-chain.js';

export type TrainingRequest = { kind: 'train'; dp?: TaskDp | undefined } | { kind: 'exact' };

/** Why this site refuses the training request, or null to go ahead. */
export function privacyRefusal(siteId: string, maxEpsilon: number, replica: Iterable<LedgerEntry>, req: TrainingRequest): string | null {
  if (req.kind === 'exact') return `this site trains only with differential privacy (--max-epsilon ${maxEpsilon}): an exact fit's statistics have no ε bound`;
  const dp = req.dp;
  if (dp === undefined) return `this site trains only with differential privacy (--max-epsilon ${maxEpsilon}): a training task without DP has no ε bound`;
  const tally = tallyChain(replica);
  const spent = tally.siteEpsilon(siteId, dp.delta);
  const projected = tally.projectedSiteEpsilon(siteId, { q: dp.samplingRate, sigma: dp.noiseMultiplier, steps: dp.roundsLeft }, dp.delta);
  if (projected <= maxEpsilon) return null;
  return `this run's ${dp.roundsLeft} remaining rounds (σ ${dp.noiseMultiplier}, q ${dp.samplingRate.toPrecision(3)}) would take this site from ε ${spent.toFixed(3)} to ${projected.toFixed(3)} at δ ${dp.delta.toPrecision(3)}, past its --max-epsilon ${maxEpsilon}`;
}
