// One stage of a secure round (keys, shares, opened inbox, masked update, reveal) as a phase: the
// asked sites get the stage's request (the same for all, or their own roster or inbox), and each
// answer is handed to the round's SecureSum, which refuses it with a code or keeps it.

import { isFedrxError } from '../../shared/errors.js';
import type { SecureSum } from '../secure/secure-sum.js';
import { admissionRefusal, answerRef, refuse, type Phase, type SiteMessage, type Verdict } from './phase.js';
import { RoundCollector } from './round-collector.js';

export type StageKind = 'secagg-keys' | 'secagg-shares' | 'secagg-opened' | 'masked-update' | 'secagg-reveal';
export type StageMessage<K extends StageKind> = Extract<SiteMessage, { kind: K }>;

export interface StageSpec<K extends StageKind, T> {
  name: string;
  answers: K;
  /** What every asked site receives, or a function giving each its own. */
  request: Buffer | string | ((siteId: string) => Buffer | string);
  /** Hands the answer to the SecureSum (which throws a FedrxError to refuse it); returns what the outcome keeps. */
  take(siteId: string, msg: StageMessage<K>, sum: SecureSum): T;
}

export class SecureStagePhase<K extends StageKind, T> implements Phase<T> {
  readonly name: string;
  readonly answers: K;
  readonly collector: RoundCollector<T>;
  readonly request: Buffer | string;

  constructor(
    private readonly sum: SecureSum,
    private readonly spec: StageSpec<K, T>,
    asked: ReadonlySet<string>,
    deadlineMs: number,
  ) {
    this.name = spec.name;
    this.answers = spec.answers;
    this.collector = new RoundCollector(sum.ref.runId, sum.ref.round, asked, deadlineMs);
    this.request = typeof spec.request === 'function' ? '' : spec.request;
  }

  requestFor(siteId: string): Buffer | string {
    return typeof this.spec.request === 'function' ? this.spec.request(siteId) : this.spec.request;
  }

  accept(siteId: string, m: SiteMessage): Verdict {
    if (m.kind !== this.answers) throw new TypeError(`${this.name} phase got ${m.kind}`);
    const early = admissionRefusal(this.collector, siteId, answerRef(m), this.name);
    if (early !== null) return early;
    let value: T;
    try {
      value = this.spec.take(siteId, m as StageMessage<K>, this.sum);
    } catch (e) {
      if (!isFedrxError(e)) throw e;
      return refuse(this.collector, siteId, e.code, e.message);
    }
    this.collector.record(siteId, { kind: 'ok', value });
    return { accepted: true };
  }

  /** The sites that answered this stage. */
  answered(): Set<string> {
    return new Set(this.collector.ok().map(([s]) => s));
  }
}
