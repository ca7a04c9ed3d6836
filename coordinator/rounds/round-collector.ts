// One open phase of a round (training or evaluation): who was asked, who answered, and a promise
// that settles when everyone has answered or the deadline passes.

import type { ErrorCode } from '../../shared/errors.js';

export type Answer<T> = { kind: 'ok'; value: T } | { kind: 'refused'; code: ErrorCode; reason: string };

export class RoundCollector<T> {
  private readonly answers = new Map<string, Answer<T>>();
  private settle: (() => void) | null = null;
  readonly done: Promise<void>;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly runId: string,
    readonly round: number,
    readonly asked: ReadonlySet<string>,
    deadlineMs: number,
  ) {
    this.done = new Promise<void>((resolve) => {
      this.settle = resolve;
    });
    this.timer = setTimeout(() => this.finish(), deadlineMs);
    if (asked.size === 0) this.finish();
  }

  has(siteId: string): boolean {
    return this.answers.has(siteId);
  }

  record(siteId: string, answer: Answer<T>): void {
    if (!this.asked.has(siteId) || this.answers.has(siteId)) return;
    this.answers.set(siteId, answer);
    if (this.answers.size === this.asked.size) this.finish();
  }

  results(): Map<string, Answer<T>> {
    return this.answers;
  }

  ok(): [string, T][] {
    const out: [string, T][] = [];
    for (const [site, a] of this.answers) if (a.kind === 'ok') out.push([site, a.value]);
    return out;
  }

  finish(): void {
    clearTimeout(this.timer);
    this.settle?.();
    this.settle = null;
  }
}

/** "site-2: E_DEADLINE, site-3: E_NON_FINITE": why sites' answers were not used. */
export function describeRefusals(outcomes: readonly { siteId: string; status: string; code?: string }[]): string {
  const bad = outcomes.filter((o) => o.status !== 'accepted');
  if (bad.length === 0) return outcomes.length === 0 ? 'no site was selected' : 'all updates accepted';
  return bad.map((o) => `${o.siteId}: ${o.code ?? o.status}`).join(', ');
}
