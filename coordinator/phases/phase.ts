// A phase of a round: the coordinator asks the selected sites for one thing (statistics, an
// update, an evaluation, an exact-fit answer), collects their answers until all have answered or
// the deadline passes, validates each one, and hands back the verdicts as data. The run loop opens
// one phase at a time (phase-desk.ts); the gateway delivers each authenticated message to it and
// sends a refusal back to the site. A phase never sends anything itself.

import type { Payload } from '../../shared/compression/update-codec.js';
import type { CompressedUpdateHeader } from '../../shared/compression/wire.js';
import type { ErrorCode } from '../../shared/errors.js';
import type { NamedTensor64, Weights } from '../../shared/tensors.js';
import type { EvalResult, ExactProductHeader, ExactStatsHeader, StatsReport, UpdateHeader } from '../../shared/wire.js';
import type { MaskedUpdateHeader, SecaggKeys, SecaggOpened, SecaggReveal, SecaggShares } from '../../shared/secagg/wire.js';
import type { SiteOutcome } from '../store/store.js';
import type { UpdateStreamHeader } from '../../shared/update-chunks.js';
import type { AcceptResult } from '../strategies/types.js';
import type { Answer, RoundCollector } from './round-collector.js';

/** An answer from a site, authenticated and well-formed (gateway), not yet trusted. */
export type SiteMessage =
  | { kind: 'stats-report'; msg: StatsReport }
  | { kind: 'update'; header: UpdateHeader; weights: Weights; bytes?: number }
  | { kind: 'update-stream'; header: UpdateStreamHeader; part: StreamPart }
  | { kind: 'compressed-update'; header: CompressedUpdateHeader; payload: Payload; bytes: number }
  | { kind: 'eval-result'; msg: EvalResult }
  | { kind: 'exact-stats'; header: ExactStatsHeader; tensors: NamedTensor64[] }
  | { kind: 'exact-product'; header: ExactProductHeader; tensors: NamedTensor64[] }
  | { kind: 'secagg-keys'; msg: SecaggKeys }
  | { kind: 'secagg-shares'; msg: SecaggShares }
  | { kind: 'secagg-opened'; msg: SecaggOpened }
  | { kind: 'secagg-reveal'; msg: SecaggReveal }
  | { kind: 'masked-update'; header: MaskedUpdateHeader; masked: Uint32Array };

/**
 * One step of a chunked update (gateway/update-stream.ts): its signed header was accepted
 * (`begin`), a verified chunk of `values` at flat `offset`, every chunk arrived and the whole
 * update matched its updateHash (`end`), or the stream failed and must leave no trace (`abort`).
 */
export type StreamPart =
  | { step: 'begin' }
  | { step: 'chunk'; index: number; offset: number; values: Float32Array }
  | { step: 'end' }
  | { step: 'abort'; code: ErrorCode; reason: string };

/** The run and round an answer says it is for (statistics are round 0's). */
export function answerRef(m: SiteMessage): { runId: string; round: number } {
  if (m.kind === 'stats-report') return { runId: m.msg.runId, round: 0 };
  return 'msg' in m ? { runId: m.msg.runId, round: m.msg.round } : { runId: m.header.runId, round: m.header.round };
}

/** A phase judges an answer as a strategy judges an update: accepted, or refused with a code. */
export type Verdict = AcceptResult;

export interface Phase<T> {
  /** For logs and progress: 'statistics', 'training', 'evaluation', 'exact statistics', … */
  readonly name: string;
  /** Which message kind (or kinds) answers this phase; any other is refused as not open. */
  readonly answers: SiteMessage['kind'] | readonly SiteMessage['kind'][];
  /** Who was asked, who answered, and when the phase is over. */
  readonly collector: RoundCollector<T>;
  /** What every asked site receives, unless `requestFor` says otherwise. */
  readonly request: Buffer | string;
  /** What one site receives, when sites get different requests (secure aggregation's rosters and inboxes). */
  requestFor?(siteId: string): Buffer | string;
  /** Judges one answer of `answers` kind; records it in the collector when it is this round's. */
  accept(siteId: string, msg: SiteMessage): Verdict;
}

/** The checks every phase makes first: this run and round, a site that was asked, a first answer. */
export function admissionRefusal(collector: RoundCollector<unknown>, siteId: string, ref: { runId: string; round: number }, what: string): Verdict | null {
  if (ref.runId !== collector.runId) return { accepted: false, code: 'E_WRONG_RUN', reason: `no ${what} of run ${ref.runId} is open` };
  if (ref.round !== collector.round) return { accepted: false, code: 'E_STALE_ROUND', reason: `${what} is open for round ${collector.round}, not ${ref.round}` };
  if (!collector.asked.has(siteId)) return { accepted: false, code: 'E_NOT_SELECTED', reason: `the site was not asked for ${what} this round` };
  if (collector.has(siteId)) return { accepted: false, code: 'E_DUPLICATE_UPDATE', reason: `the site already answered ${what} this round` };
  return null;
}

/** A refusal of this round's answer is the site's answer (it will not send another). */
export function refuse<T>(collector: RoundCollector<T>, siteId: string, code: ErrorCode, reason: string): Verdict {
  collector.record(siteId, { kind: 'refused', code, reason });
  return { accepted: false, code, reason };
}

/** Failures at the site (its data, its training, its connection) read apart from refusals by the coordinator. */
const SITE_FAILURES: ReadonlySet<ErrorCode> = new Set(['E_TRAINING_FAILED', 'E_DISCONNECTED', 'E_INTERNAL', 'E_SITE_BUSY']);
export const isSiteFailure = (code: ErrorCode): boolean => code.startsWith('E_CSV') || SITE_FAILURES.has(code);

/** Every asked site's outcome, in site order: accepted (with `accepted(value)`), refused, failed or missing. */
export function phaseOutcomes<T>(collector: RoundCollector<T>, what: string, accepted: (value: T) => Omit<SiteOutcome, 'siteId' | 'status'>): SiteOutcome[] {
  return [...collector.asked].sort().map((siteId): SiteOutcome => {
    const a: Answer<T> | undefined = collector.results().get(siteId);
    if (a === undefined) return { siteId, status: 'missing', code: 'E_DEADLINE', reason: `no ${what} before the deadline` };
    if (a.kind === 'ok') return { siteId, status: 'accepted', ...accepted(a.value) };
    return { siteId, status: isSiteFailure(a.code) ? 'failed' : 'rejected', code: a.code, reason: a.reason };
  });
}
