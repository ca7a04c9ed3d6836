// The request/answer step of an exact fit, shaped as a phase: ask the selected sites for their
// factored statistics → collect until all answered or the deadline → check each answer → hand
// the accepted statistics back as data. The runner owns the order; the solve is shared/exact/.

import type { SiteFactors } from '../../../shared/exact/ridge-select.js';
import { isFedrxError, type ErrorCode } from '../../../shared/errors.js';
import type { TaskConfig } from '../../../shared/run-config.js';
import type { NamedTensor64 } from '../../../shared/tensors.js';
import { PROTOCOL_VERSION, type ExactRequest, type ExactStatsHeader } from '../../../shared/wire.js';
import { RoundCollector } from '../round-collector.js';
import type { SiteOutcome } from '../../store/store.js';
import { checkExactStats, type ExactStatsExpectation } from './check-exact-stats.js';

export interface ExactAnswer {
  factors: SiteFactors;
  numExamples: number;
  updateHash: string;
  signature: string;
}

export type Verdict = { accepted: true } | { accepted: false; code: ErrorCode; reason: string };

export class ExactStatsPhase {
  readonly collector: RoundCollector<ExactAnswer>;

  constructor(
    readonly runId: string,
    readonly round: number,
    readonly baseModelHash: string,
    private readonly want: ExactStatsExpectation,
    selected: ReadonlySet<string>,
    deadlineMs: number,
  ) {
    this.collector = new RoundCollector<ExactAnswer>(runId, round, selected, deadlineMs);
  }

  request(config: TaskConfig): string {
    const msg: ExactRequest = { type: 'exact-request', v: PROTOCOL_VERSION, runId: this.runId, round: this.round, baseModelHash: this.baseModelHash, folds: this.want.folds, mode: 'factors', config };
    return JSON.stringify(msg);
  }

  /** A site's frame, already authenticated by the gateway; refusals of this round's frames are its answer. */
  accept(siteId: string, header: ExactStatsHeader, tensors: readonly NamedTensor64[]): Verdict {
    if (header.runId !== this.runId || header.round !== this.round) return { accepted: false, code: header.runId !== this.runId ? 'E_WRONG_RUN' : 'E_STALE_ROUND', reason: 'no exact fit of that run and round is open' };
    if (!this.collector.asked.has(siteId)) return { accepted: false, code: 'E_NOT_SELECTED', reason: 'the site was not asked for statistics' };
    if (this.collector.has(siteId)) return { accepted: false, code: 'E_DUPLICATE_UPDATE', reason: 'the site already answered' };
    let verdict: Verdict;
    if (header.baseModelHash !== this.baseModelHash) {
      verdict = { accepted: false, code: 'E_BASE_MODEL', reason: 'statistics signed against another base model' };
    } else {
      try {
        const factors = checkExactStats(header, tensors, this.want);
        this.collector.record(siteId, { kind: 'ok', value: { factors, numExamples: header.numExamples, updateHash: header.updateHash, signature: header.signature } });
        return { accepted: true };
      } catch (e) {
        if (!isFedrxError(e)) throw e;
        verdict = { accepted: false, code: e.code, reason: e.message };
      }
    }
    this.collector.record(siteId, { kind: 'refused', code: verdict.code, reason: verdict.reason });
    return verdict;
  }

  /** Accepted answers (by site id) and every asked site's outcome, once the collector is done. */
  results(): { answers: ExactAnswer[]; outcomes: SiteOutcome[] } {
    const answers = this.collector
      .ok()
      .map(([, a]) => a)
      .sort((a, b) => (a.factors.siteId < b.factors.siteId ? -1 : 1));
    const outcomes = [...this.collector.asked].sort().map((siteId): SiteOutcome => {
      const a = this.collector.results().get(siteId);
      if (a === undefined) return { siteId, status: 'missing', code: 'E_DEADLINE', reason: 'no statistics before the deadline' };
      if (a.kind === 'ok') return { siteId, status: 'accepted', numExamples: a.value.numExamples, updateHash: a.value.updateHash, signature: a.value.signature };
      const failed = a.code.startsWith('E_CSV') || a.code === 'E_DISCONNECTED' || a.code === 'E_INTERNAL';
      return { siteId, status: failed ? 'failed' : 'rejected', code: a.code, reason: a.reason };
    });
    return { answers, outcomes };
  }
}
