// Round 0's phase: every connected site sends the statistics of its training rows (counts, means,
// variances, levels; never rows), from which the run fixes its preprocessing and input list.

import { isFedrxError } from '../../../shared/errors.js';
import type { GroupColumns } from '../../../shared/expand-study.js';
import type { FeatureStats } from '../../../shared/feature-stats.js';
import { checkSiteStats } from '../../../shared/input-list.js';
import { DEFAULT_MIN_ROWS, type Study } from '../../../shared/study.js';
import { PROTOCOL_VERSION } from '../../../shared/wire.js';
import type { SiteOutcome } from '../../store/store.js';
import { admissionRefusal, phaseOutcomes, refuse, type Phase, type SiteMessage, type Verdict } from '../phase.js';
import { RoundCollector } from '../round-collector.js';

/** `columns`: per feature group of the study, the columns it took at the site. */
export interface StatsAnswer {
  stats: FeatureStats;
  signature: string;
  columns: GroupColumns;
}

export class StatisticsPhase implements Phase<StatsAnswer> {
  readonly name = 'statistics';
  readonly answers = 'stats-report';
  readonly collector: RoundCollector<StatsAnswer>;
  readonly request: string;

  constructor(runId: string, private readonly study: Study, asked: ReadonlySet<string>, deadlineMs: number) {
    this.collector = new RoundCollector(runId, 0, asked, deadlineMs);
    this.request = JSON.stringify({ type: 'stats-request', v: PROTOCOL_VERSION, runId, study });
  }

  accept(siteId: string, m: SiteMessage): Verdict {
    if (m.kind !== 'stats-report') throw new TypeError(`statistics phase got ${m.kind}`);
    const { msg } = m;
    const early = admissionRefusal(this.collector, siteId, { runId: msg.runId, round: 0 }, 'statistics');
    if (early !== null) return early;
    // A site's own check should have refused; a report over fewer rows would expose a small group.
    const minRows = this.study.minRows ?? DEFAULT_MIN_ROWS;
    if (msg.stats.rows < minRows) {
      return refuse(this.collector, siteId, 'E_STATS_TOO_FEW_ROWS', `statistics over ${msg.stats.rows} rows, the study needs at least ${minRows}: not used`);
    }
    try {
      const columns = checkSiteStats(this.study, msg.stats);
      this.collector.record(siteId, { kind: 'ok', value: { stats: msg.stats, signature: msg.signature, columns } });
      return { accepted: true };
    } catch (e) {
      return refuse(this.collector, siteId, isFedrxError(e) ? e.code : 'E_BAD_MESSAGE', (e as Error).message);
    }
  }

  /** The accepted reports in site order, and every asked site's outcome. */
  results(): { reports: ({ siteId: string } & StatsAnswer)[]; outcomes: SiteOutcome[] } {
    const reports = this.collector
      .ok()
      .map(([siteId, answer]) => ({ siteId, ...answer }))
      .sort((a, b) => (a.siteId < b.siteId ? -1 : 1));
    return { reports, outcomes: phaseOutcomes(this.collector, 'statistics', (a) => ({ numExamples: a.stats.rows })) };
  }
}
