// The one door between the gateway and the run: it holds the phase that is open, if any. The
// gateway delivers each authenticated answer here and sends a refusal back to its site; the run
// loop opens a phase, sends its request through the site link, and waits for the phase to close.

import { isErrorCode } from '../../shared/errors.js';
import type { LedgerEntry } from '../../shared/ledger.js';
import type { TaskError } from '../../shared/wire.js';
import type { RunFrameLimits } from '../gateway/frame-caps.js';
import type { Phase, SiteMessage, Verdict } from './phase.js';
import type { StepObserver } from './run-steps.js';

/** What the run engine needs of the gateway's sending side. */
export interface SiteLink {
  connectedSites(): readonly { siteId: string }[];
  isConnected(siteId: string): boolean;
  /** Resolves false when the site is gone or the send failed. */
  send(siteId: string, data: Buffer | string): Promise<boolean>;
  broadcastLedger(entries: LedgerEntry[]): void;
  /** What frames sites may send for the open run; null when none is open. */
  expectRun(limits: RunFrameLimits | null): void;
}

/** What the gateway hands to the run engine. */
export interface AnswerSink {
  deliver(siteId: string, msg: SiteMessage): Verdict;
  taskError(siteId: string, msg: TaskError): void;
  disconnected(siteId: string, why: string): void;
}

export class PhaseDesk implements AnswerSink {
  private open: Phase<unknown> | null = null;

  /** `onStep`: told of each phase opened and each answer accepted, and of the run loop's own steps. */
  constructor(readonly onStep: StepObserver = () => {}) {}

  /** Opens `phase`, sends its request to every site it asks, and resolves when it closes. */
  async run<T>(link: SiteLink, phase: Phase<T>): Promise<void> {
    const { collector } = phase;
    this.open = phase as Phase<unknown>;
    try {
      await Promise.all(
        [...collector.asked].map(async (site) => {
          if (!(await link.send(site, phase.request))) collector.record(site, { kind: 'refused', code: 'E_DISCONNECTED', reason: 'the request could not be sent' });
        }),
      );
      this.onStep({ step: 'phase-open', phase: phase.name, runId: collector.runId, round: collector.round });
      await collector.done;
    } finally {
      if (this.open === phase) this.open = null;
    }
  }

  /** Closes the open phase now with what it has (the coordinator is stopping, or the run was cancelled). */
  close(): void {
    this.open?.collector.finish();
  }

  deliver(siteId: string, msg: SiteMessage): Verdict {
    const p = this.open;
    if (p === null || p.answers !== msg.kind) {
      const ref = msg.kind === 'stats-report' ? { runId: msg.msg.runId, round: 0 } : msg.kind === 'eval-result' ? msg.msg : msg.header;
      const code = p === null || ref.runId !== p.collector.runId ? 'E_WRONG_RUN' : 'E_STALE_ROUND';
      return { accepted: false, code, reason: `no phase of run ${ref.runId} round ${ref.round} is collecting ${msg.kind} answers` };
    }
    const verdict = p.accept(siteId, msg);
    if (verdict.accepted) this.onStep({ step: 'answer', phase: p.name, runId: p.collector.runId, round: p.collector.round });
    return verdict;
  }

  /** A site could not do what it was asked: that is its answer to the open phase of that round. */
  taskError(siteId: string, msg: TaskError): void {
    const c = this.open?.collector;
    if (c === undefined || c.runId !== msg.runId || c.round !== msg.round) return;
    // Attacker-controlled: a code this coordinator does not know is recorded as a bad message.
    c.record(siteId, { kind: 'refused', code: isErrorCode(msg.code) ? msg.code : 'E_BAD_MESSAGE', reason: msg.message });
  }

  disconnected(siteId: string, why: string): void {
    this.open?.collector.record(siteId, { kind: 'refused', code: 'E_DISCONNECTED', reason: `site disconnected during the round: ${why}` });
  }
}
