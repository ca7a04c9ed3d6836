// A round's last phase: the sites that trained score the new model on their held-out (and
// validation) rows and send back sums, never rows, so the round's metrics are exact, as if pooled.

import { isFedrxError } from '../../shared/errors.js';
import { layoutOf } from '../../shared/conformal/federated-quantile.js';
import { checkSketch, type SketchLayout } from '../../shared/conformal/score-sketch.js';
import type { TaskConfig } from '../../shared/run-config.js';
import { groupingFeature, isRegression } from '../../shared/study.js';
import { encodeFrame } from '../../shared/tensor-codec.js';
import type { Weights } from '../../shared/tensors.js';
import { PROTOCOL_VERSION, type EvalResult } from '../../shared/wire.js';
import { admissionRefusal, refuse, type Phase, type SiteMessage, type Verdict } from './phase.js';
import { RoundCollector } from './round-collector.js';

export type EvalReport = Pick<EvalResult, 'numExamples' | 'loss' | 'sums' | 'groups' | 'validation' | 'calibration'>;

export class EvaluationPhase implements Phase<EvalReport> {
  readonly name = 'evaluation';
  readonly answers = 'eval-result';
  readonly collector: RoundCollector<EvalReport>;
  readonly request: Buffer;
  private readonly layout: SketchLayout;
  private readonly levels: ReadonlySet<string> | null;

  constructor(
    runId: string,
    round: number,
    private readonly model: { weights: Weights; modelHash: string },
    task: TaskConfig,
    asked: ReadonlySet<string>,
    deadlineMs: number,
  ) {
    this.collector = new RoundCollector(runId, round, asked, deadlineMs);
    this.layout = layoutOf(isRegression(task.study) ? 'interval' : 'set');
    const by = groupingFeature(task.study);
    this.levels = by === null ? null : new Set(by.levels);
    this.request = encodeFrame({ v: PROTOCOL_VERSION, kind: 'evaluate', runId, round, modelHash: model.modelHash, config: task }, model.weights);
  }

  accept(siteId: string, m: SiteMessage): Verdict {
    if (m.kind !== 'eval-result') throw new TypeError(`evaluation phase got ${m.kind}`);
    const { msg } = m;
    const early = admissionRefusal(this.collector, siteId, msg, 'evaluation');
    if (early !== null) return early;
    if (msg.modelHash !== this.model.modelHash) return refuse(this.collector, siteId, 'E_STALE_ROUND', 'the evaluation is of another model');
    const badSketch = this.sketchProblem(msg);
    if (badSketch !== null) return refuse(this.collector, siteId, 'E_BAD_SKETCH', badSketch);
    const badGroups = this.groupsProblem(msg);
    if (badGroups !== null) return refuse(this.collector, siteId, 'E_BAD_MESSAGE', badGroups);
    this.collector.record(siteId, {
      kind: 'ok',
      value: { numExamples: msg.numExamples, loss: msg.loss, sums: msg.sums, groups: msg.groups, validation: msg.validation, calibration: msg.calibration },
    });
    return { accepted: true };
  }

  /**
   * A calibration sketch (attacker-controlled) of this task's layout, whose counts add up to its
   * rows, which are the validation part's when the site has one: why not, or null. A refused
   * evaluation counts for nothing in the round, figures or quantile.
   */
  private sketchProblem(msg: EvalResult): string | null {
    const c = msg.calibration;
    if (c === undefined) return null;
    if (c.sites !== undefined && c.sites > c.numExamples) return `the calibration sketch pools ${c.sites} sites' scores but holds ${c.numExamples} rows`;
    if (msg.validation !== undefined && c.numExamples !== msg.validation.numExamples) {
      return `the calibration sketch claims ${c.numExamples} rows, the validation part that calibrates has ${msg.validation.numExamples}`;
    }
    try {
      checkSketch(this.layout, c.counts, c.numExamples);
      return null;
    } catch (e) {
      if (isFedrxError(e, 'E_BAD_SKETCH')) return e.message;
      throw e;
    }
  }

  /** Per-level sums (attacker-controlled): levels of the study's groupBy feature, each once, adding up to the rows scored. */
  private groupsProblem(msg: EvalResult): string | null {
    const g = msg.groups;
    if (g === undefined) return null;
    if (this.levels === null) return 'per-group sums were sent for a study that reports none';
    const seen = new Set<string>();
    for (const { level } of g) {
      if (!this.levels.has(level) || seen.has(level)) return `per-group sums name a level that is not one of the study's groupBy levels, or name one twice (entry ${seen.size + 1})`;
      seen.add(level);
    }
    const total = g.reduce((n, x) => n + x.sums.n, 0);
    return total === msg.numExamples ? null : `per-group sums count ${total} rows, the evaluation ${msg.numExamples}`;
  }

  /** The accepted evaluations by site. */
  results(): Map<string, EvalReport> {
    return new Map(this.collector.ok());
  }
}
