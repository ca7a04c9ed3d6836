// The updates of a training round under secure aggregation (SecAgg+; shared/secagg/): five
// phases — keys, shares, inbox opened, masked update (the sites train here), reveal — after which
// the coordinator holds only the sum of the survivors' updates, which the strategy folds whole.
// A stage that leaves fewer sites than the threshold ends the round with E_SECAGG_THRESHOLD, and
// nothing is committed.

import { FedrxError, isFedrxError } from '../../shared/errors.js';
import type { TaskDp } from '../../shared/privacy/dp-settings.js';
import type { TaskConfig } from '../../shared/run-config.js';
import { MODULUS_BITS, resolveParams, type SecureParams } from '../../shared/secagg/params.js';
import { decodeSecureSum, secureLength } from '../../shared/secagg/secure-vector.js';
import { encodeFrame } from '../../shared/tensor-codec.js';
import { messageText, PROTOCOL_VERSION } from '../../shared/wire.js';
import { phaseOutcomes } from '../phases/phase.js';
import { SecureStagePhase, type StageKind, type StageSpec } from '../phases/secure-stage-phase.js';
import type { TrainReport } from '../phases/training-phase.js';
import { SecureSum } from '../secure/secure-sum.js';
import type { RunRow, SiteOutcome } from '../store/store.js';
import type { Aggregator } from '../strategies/types.js';
import { runPhase, type Engine } from './engine.js';
import type { RunState } from './run-state.js';

/** What a secure round's ledger entry records of the protocol and of who is in the sum. */
export interface SecureRecord {
  protocol: 'secagg+';
  threshold: number;
  neighbours: number;
  clip: number;
  quantBits: number;
  modulusBits: number;
  maxWeight: number;
  /** Sites whose masked updates are in the sum. */
  included: string[];
  /** Sites that shared their keys but whose updates are not in the sum: their masks were removed with the survivors' shares. */
  recovered: string[];
  /** Example count summed securely over `included`. */
  examples: number;
}

export interface SecureUpdates {
  outcomes: SiteOutcome[];
  secure: SecureRecord | null;
  /** Why the round cannot be committed, or null. */
  failure: string | null;
}

type StageName = 'keys' | 'shares' | 'inbox' | 'masked update' | 'reveal';

/** `dp`: a private run's settings for the sites, who clip and add their share of the noise inside the sum. */
export async function secureUpdates(engine: Engine, run: RunRow, round: number, from: RunState, task: TaskConfig, aggregator: Aggregator, selected: ReadonlySet<string>, dp?: TaskDp): Promise<SecureUpdates> {
  const { config } = run;
  const sites = [...selected].sort();
  const firstMiss = new Map<string, SiteOutcome>();
  const outcomes = (reports: ReadonlyMap<string, TrainReport> = new Map()): SiteOutcome[] =>
    sites.map((siteId) => {
      const r = reports.get(siteId);
      return r !== undefined ? { siteId, status: 'accepted', ...r } : (firstMiss.get(siteId) ?? { siteId, status: 'missing', code: 'E_SECAGG_THRESHOLD', reason: 'the round ended before this site was asked again' });
    });
  const fail = (reason: string, reports?: ReadonlyMap<string, TrainReport>): SecureUpdates => ({ outcomes: outcomes(reports), secure: null, failure: reason });

  let params: SecureParams;
  try {
    params = resolveParams(config.secureAggregation ?? {}, sites.length, maxTrainingRows(engine, run.id));
  } catch (e) {
    if (isFedrxError(e)) return fail(`${e.code}: ${e.message}`);
    throw e;
  }
  const size = from.weights.reduce((n, t) => n + t.data.length, 0);
  const sum = new SecureSum({ runId: run.id, round, params, sites, length: secureLength(size) });
  const deadlineMs = config.roundTimeoutSec * 1000;
  const ref = { v: PROTOCOL_VERSION, runId: run.id, round } as const;

  /** Runs one stage with `asked`; returns who answered, or null when fewer than the threshold did. */
  async function stage<K extends StageKind, T>(name: StageName, spec: Omit<StageSpec<K, T>, 'name'>, asked: readonly string[]): Promise<Map<string, T> | null> {
    const phase = new SecureStagePhase(sum, { ...spec, name: `secure ${name}` }, new Set(asked), deadlineMs);
    await runPhase(engine, phase);
    for (const o of phaseOutcomes(phase.collector, name, () => ({}))) if (o.status !== 'accepted' && !firstMiss.has(o.siteId)) firstMiss.set(o.siteId, { ...o, reason: `secure ${name}: ${o.reason ?? o.status}` });
    const answered = new Map(phase.collector.ok());
    return answered.size >= params.threshold ? answered : null;
  }
  const below = (name: StageName, n: number, of: number): string =>
    `E_SECAGG_THRESHOLD: secure ${name}: ${n} of ${of} sites answered, the threshold is ${params.threshold}; nothing of round ${round} is committed`;

  const keys = await stage('keys', { answers: 'secagg-keys', request: messageText({ type: 'secagg-setup', ...ref, params, sites }), take: (site, m, s) => s.addAdvert(advertOf(m.msg), publicKeyOf(engine, site)) }, sites);
  if (keys === null) return fail(below('keys', sum.advertised().length, sites.length));
  const shares = await stage('shares', { answers: 'secagg-shares', request: (site) => messageText(sum.rosterFor(site)), take: (_s, m, s) => s.addShares(m.msg) }, sum.advertised());
  if (shares === null) return fail(below('shares', sum.shared().length, keys.size));
  const opened = await stage('inbox', { answers: 'secagg-opened', request: (site) => messageText(sum.inboxFor(site)), take: (site, m, s) => s.addOpened(site, m.msg.refusedBoxes) }, sum.shared());
  for (const s of sum.accused()) {
    if (!firstMiss.has(s)) firstMiss.set(s, { siteId: s, status: 'rejected', code: 'E_SECAGG_SHARE', reason: "secure inbox: a neighbour could not open this site's share box; left out of the round" });
  }
  if (opened === null || sum.ready().length < params.threshold) return fail(below('inbox', sum.ready().length, shares.size));

  const train = encodeFrame({ ...ref, kind: 'train', modelHash: from.modelHash, config: task, secure: true, ...(dp === undefined ? {} : { dp }) }, from.weights);
  const masked = await stage(
    'masked update',
    {
      answers: 'masked-update',
      request: train,
      take: (site, m, s): TrainReport => {
        const h = m.header;
        if (h.baseModelHash !== from.modelHash) throw new FedrxError('E_BASE_MODEL', 'the masked update was trained from another base model');
        s.addMasked(site, m.masked, h.sPk);
        return { numExamples: h.numExamples, updateHash: h.updateHash, trainLoss: h.trainLoss, signature: h.signature };
      },
    },
    sum.ready(),
  );
  if (masked === null) return fail(below('masked update', sum.split().survivors.length, sum.ready().length));
  const { survivors } = sum.split();
  if (survivors.length < config.minSites) return fail(`secure masked update: ${survivors.length} updates, the run needs ${config.minSites}`, masked);

  const revealed = await stage('reveal', { answers: 'secagg-reveal', request: messageText(sum.unmaskRequest()), take: (site, m, s) => s.addReveal(site, m.msg.selfShares, m.msg.keyShares) }, survivors);
  if (revealed === null) return fail(below('reveal', 0, survivors.length), masked);
  let result: Awaited<ReturnType<SecureSum['finish']>>;
  try {
    result = await sum.finish();
  } catch (e) {
    if (isFedrxError(e)) return fail(`${e.code}: ${e.message}`, masked);
    throw e;
  }
  const decoded = decodeSecureSum(result.sum, result.survivors.length, from.weights, params);
  const declared = result.survivors.reduce((n, s) => n + masked.get(s)!.numExamples, 0);
  if (decoded.examples !== declared) {
    return fail(`E_SECAGG_MASKED: the secure sum counts ${decoded.examples} examples, the survivors declared ${declared}: a masked update was not what its site said`, masked);
  }
  const verdict = aggregator.acceptSum?.({ sums: decoded.sums, totalWeight: decoded.totalWeight, contributors: result.survivors });
  if (verdict === undefined) return fail(`E_SECAGG_PARAMS: strategy ${config.strategy} cannot fold a secure sum`, masked);
  if (!verdict.accepted) return fail(`${verdict.code}: the secure sum was refused: ${verdict.reason}`, masked);
  const secure: SecureRecord = {
    protocol: 'secagg+',
    threshold: params.threshold,
    neighbours: params.neighbours,
    clip: params.clip,
    quantBits: params.quantBits,
    modulusBits: MODULUS_BITS,
    maxWeight: params.maxWeight,
    included: result.survivors,
    recovered: result.dropped,
    examples: decoded.examples,
  };
  return { outcomes: outcomes(masked), secure, failure: null };
}

function advertOf(m: { siteId: string; cPk: string; sPk: string; signature: string }) {
  return { siteId: m.siteId, cPk: m.cPk, sPk: m.sPk, signature: m.signature };
}

function publicKeyOf(engine: Engine, site: string): string {
  const rec = engine.store.sites.get(site);
  if (rec === null) throw new FedrxError('E_UNKNOWN_SITE', `site ${site} is not registered`);
  return rec.publicKey;
}

/** The most training rows any site reported in round 0: the weight 1 of FedAvg's weighting in the ring. */
function maxTrainingRows(engine: Engine, runId: string): number {
  const at = engine.store.roundLedgerIndex(runId, 0);
  const entry = at === null ? null : engine.store.ledger.get(at);
  return Math.max(1, ...(entry?.participants.map((p) => p.numExamples) ?? []));
}
