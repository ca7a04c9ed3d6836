// The one door between the gateway and the run: it holds the phase that is open, if any. The
// gateway delivers each authenticated answer here and sends a refusal back to its site; the run
// loop opens a phase, sends its request, and closes it when the phase is over.

import { isErrorCode } from '../../shared/errors.js';
import type { TaskError } from '../../shared/wire.js';
import { answerRef, type Phase, type SiteMessage, type Verdict } from './phase.js';

/** What the gateway hands to the run engine. */
export interface AnswerSink {
  deliver(siteId: string, msg: SiteMessage): Verdict;
  taskError(siteId: string, msg: TaskError): void;
  disconnected(siteId: string, why: string): void;
}

export class PhaseDesk implements AnswerSink {
  private current: Phase<unknown> | null = null;

  /** `onAnswer`: told of each answer a phase accepted (progress, crash drills). */
  constructor(private readonly onAnswer: (phase: Phase<unknown>, siteId: string) => void = () => {}) {}

  /** From now on, answers of `phase`'s kind go to it. */
  open<T>(phase: Phase<T>): void {
    this.current = phase as Phase<unknown>;
  }

  /** Ends `phase` with what it has: no more answers reach it. */
  close<T>(phase: Phase<T>): void {
    phase.collector.finish();
    if (this.current === phase) this.current = null;
  }

  /** Closes whatever phase is open now (the coordinator is stopping). */
  closeAll(): void {
    if (this.current !== null) this.close(this.current);
  }

  deliver(siteId: string, msg: SiteMessage): Verdict {
    const p = this.current;
    // A chunked update answers what a one-frame update answers.
    const kind = msg.kind === 'update-stream' ? 'update' : msg.kind;
    if (p === null || !(Array.isArray(p.answers) ? p.answers.includes(kind) : p.answers === kind)) {
      const ref = answerRef(msg);
      const code = p === null || ref.runId !== p.collector.runId ? 'E_WRONG_RUN' : 'E_STALE_ROUND';
      return { accepted: false, code, reason: `no phase of run ${ref.runId} round ${ref.round} is collecting ${msg.kind} answers` };
    }
    const verdict = p.accept(siteId, msg);
    // A stream is one answer, given when its last chunk has been folded.
    if (verdict.accepted && (msg.kind !== 'update-stream' || msg.part.step === 'end')) this.onAnswer(p, siteId);
    return verdict;
  }

  /** A site could not do what it was asked: that is its answer to the open phase of that round. */
  taskError(siteId: string, msg: TaskError): void {
    const c = this.current?.collector;
    if (c === undefined || c.runId !== msg.runId || c.round !== msg.round) return;
    // Attacker-controlled: a code this coordinator does not know is recorded as a bad message.
    c.record(siteId, { kind: 'refused', code: isErrorCode(msg.code) ? msg.code : 'E_BAD_MESSAGE', reason: msg.message });
  }

  disconnected(siteId: string, why: string): void {
    this.current?.collector.record(siteId, { kind: 'refused', code: 'E_DISCONNECTED', reason: `site disconnected during the round: ${why}` });
  }
}
