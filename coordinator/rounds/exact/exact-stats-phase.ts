// The request/answer step of an exact fit, shaped as a phase: ask the selected sites for their
// factored statistics → collect until all answered or the deadline → check each answer → hand
// the accepted statistics back as data. The runner owns the order; the solve is shared/exact/.

import type { SiteFactors } from '../../../shared/exact/ridge-select.js';
import { isFedrxError } from '../../../shared/errors.js';
import type { TaskConfig } from '../../../shared/run-config.js';
import { PROTOCOL_VERSION, type ExactRequest } from '../../../shared/wire.js';
import { RoundCollector } from '../round-collector.js';
import type { SiteOutcome } from '../../store/store.js';
import { admissionRefusal, phaseOutcomes, refuse, type Phase, type SiteMessage, type Verdict } from '../phase.js';
import { checkExactStats, type ExactStatsExpectation } from './check-exact-stats.js';

export interface ExactAnswer {
  factors: SiteFactors;
  numExamples: number;
  updateHash: string;
  signature: string;
}

export class ExactStatsPhase implements Phase<ExactAnswer> {
  readonly name = 'exact statistics';
  readonly answers = 'exact-stats';
  readonly collector: RoundCollector<ExactAnswer>;
  readonly request: string;

  constructor(
    runId: string,
    round: number,
    private readonly baseModelHash: string,
    private readonly want: ExactStatsExpectation,
    config: TaskConfig,
    selected: ReadonlySet<string>,
    deadlineMs: number,
  ) {
    this.collector = new RoundCollector<ExactAnswer>(runId, round, selected, deadlineMs);
    const msg: ExactRequest = { type: 'exact-request', v: PROTOCOL_VERSION, runId, round, baseModelHash, folds: want.folds, mode: 'factors', config };
    this.request = JSON.stringify(msg);
  }

  /** A site's frame, already authenticated by the gateway; refusals of this round's frames are its answer. */
  accept(siteId: string, m: SiteMessage): Verdict {
    if (m.kind !== 'exact-stats') throw new TypeError(`exact statistics phase got ${m.kind}`);
    const { header, tensors } = m;
    const early = admissionRefusal(this.collector, siteId, header, 'exact statistics');
    if (early !== null) return early;
    if (header.baseModelHash !== this.baseModelHash) return refuse(this.collector, siteId, 'E_BASE_MODEL', 'statistics signed against another base model');
    try {
      const factors = checkExactStats(header, tensors, this.want);
      this.collector.record(siteId, { kind: 'ok', value: { factors, numExamples: header.numExamples, updateHash: header.updateHash, signature: header.signature } });
      return { accepted: true };
    } catch (e) {
      if (!isFedrxError(e)) throw e;
      return refuse(this.collector, siteId, e.code, e.message);
    }
  }

  /** Accepted answers (by site id) and every asked site's outcome, once the collector is done. */
  results(): { answers: ExactAnswer[]; outcomes: SiteOutcome[] } {
    const answers = this.collector
      .ok()
      .map(([, a]) => a)
      .sort((a, b) => (a.factors.siteId < b.factors.siteId ? -1 : 1));
    const outcomes = phaseOutcomes(this.collector, 'statistics', (a) => ({ numExamples: a.numExamples, updateHash: a.updateHash, signature: a.signature }));
    return { answers, outcomes };
  }
}
