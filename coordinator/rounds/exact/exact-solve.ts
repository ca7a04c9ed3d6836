// The solve of an exact fit, shaped as phases the runner opens one at a time: factored statistics
// per fold (ridge, penalty by federated validation), or an iterative solve with the sites — CG
// products for wide ridge, Newton terms for logistic. Returns the fit and each site's outcome as
// data; evaluation and the commit stay with the runner, as for any round.

import { exactMode } from '../../../shared/exact/crossover.js';
import { newtonAnswerLength, newtonStep } from '../../../shared/exact/logistic.js';
import { isSearch, singlePenalty } from '../../../shared/exact/penalty.js';
import { ridgeByCg } from '../../../shared/exact/ridge-cg.js';
import { sumSquaredError, type RidgeFit } from '../../../shared/exact/ridge-path.js';
import { exactRidge, type PenaltySelection } from '../../../shared/exact/ridge-select.js';
import { FedrxError, isFedrxError } from '../../../shared/errors.js';
import { DEFAULT_FOLDS, type TaskConfig } from '../../../shared/run-config.js';
import { DEFAULT_MIN_ROWS, isRegression, inputDim, type Study } from '../../../shared/study.js';
import { PROTOCOL_VERSION, type ExactRequest } from '../../../shared/wire.js';
import { describeRefusals } from '../round-collector.js';
import type { Phase } from '../phase.js';
import { phaseFailure } from '../round-failure.js';
import type { RunRow, SiteOutcome } from '../../store/store.js';
import { ExactProductPhase, stepRequest, sumVectors, type ProductSite } from './exact-product-phase.js';
import { ExactStatsPhase } from './exact-stats-phase.js';

/** What a solve needs from the run loop: running a phase with the sites, logging. */
export interface ExactIo {
  runPhase<T>(phase: Phase<T>): Promise<void>;
  log(line: string): void;
}

/** A finished exact solve, or why it could not finish. */
export type ExactSolve = { fit: RidgeFit; selection: PenaltySelection | null; outcomes: SiteOutcome[] } | { reason: string; outcomes: SiteOutcome[] };

/** Newton converges in a handful of steps; more means the data are (nearly) separable and λ too small. */
const MAX_NEWTON_STEPS = 30;

/** `study`: the run's study with its input list expanded (round 0). */
export async function solveExact(io: ExactIo, run: RunRow, study: Study, task: TaskConfig, parentHash: string, selected: ReadonlySet<string>): Promise<ExactSolve> {
  const width = inputDim(study);
  if (!isRegression(study)) return byNewton(io, run, task, parentHash, selected, width);
  return (run.config.strategyOptions.exactAlgorithm ?? exactMode(width, task.preprocessing.rows)) === 'factors'
    ? byFactors(io, run, study, task, parentHash, selected, width)
    : byProducts(io, run, task, parentHash, selected, width);
}

/** Factored sufficient statistics per fold, one request; λ chosen by federated k-fold validation. */
async function byFactors(io: ExactIo, run: RunRow, study: Study, task: TaskConfig, parentHash: string, selected: ReadonlySet<string>, width: number): Promise<ExactSolve> {
  const { config } = run;
  const folds = isSearch(study.model.l2) ? (config.strategyOptions.folds ?? DEFAULT_FOLDS) : 1;
  const phase = new ExactStatsPhase(run.id, 1, parentHash, { width, folds, minRows: study.minRows ?? DEFAULT_MIN_ROWS }, task, selected, config.roundTimeoutSec * 1000);
  await io.runPhase(phase);
  const { answers, outcomes } = phase.results();
  if (answers.length < config.minSites) {
    return { reason: `round 1: ${phaseFailure('statistics', answers.length, config.minSites, outcomes, config.roundTimeoutSec)}`, outcomes };
  }
  const { fit, selection } = await exactRidge(
    answers.map((a) => a.factors),
    width,
    study.model.l2,
    (line) => io.log(line),
  );
  for (const a of answers) {
    const o = outcomes.find((x) => x.siteId === a.factors.siteId)!;
    o.trainLoss = sumSquaredError(a.factors.folds, width, fit).sse / a.numExamples;
  }
  return { fit, selection, outcomes };
}

/**
 * An iterative exact solve with the sites: step 0 answers the exact-request, each later step a
 * binary request with a vector; every participant of step 0 must answer every step.
 */
function iterativeSolve(io: ExactIo, run: RunRow, task: TaskConfig, parentHash: string, mode: 'products' | 'newton', answerLength: (step: number, n: number) => number) {
  const deadline = run.config.roundTimeoutSec * 1000;
  let sites = new Map<string, ProductSite>();
  let step = 0;
  const open = async (phase: ExactProductPhase): Promise<ReturnType<ExactProductPhase['results']>> => {
    await io.runPhase(phase);
    return phase.results();
  };
  return {
    /** Step 0: the answers of every site that gave one. */
    start: async (selected: ReadonlySet<string>) => {
      const request: ExactRequest = { type: 'exact-request', v: PROTOCOL_VERSION, runId: run.id, round: 1, baseModelHash: parentHash, folds: 1, mode, config: task };
      const first = new ExactProductPhase(run.id, 1, 0, JSON.stringify(request), parentHash, (n) => answerLength(0, n), new Map([...selected].map((s) => [s, { transcript: null, signature: '', numExamples: 0 }])), deadline);
      const r = await open(first);
      sites = r.sites;
      return r;
    },
    /** Step i: every participant's answer to `p`, or a failure naming who did not answer. */
    next: async (p: Float64Array) => {
      step++;
      const phase = new ExactProductPhase(run.id, 1, step, stepRequest(run.id, 1, step, p), parentHash, (n) => answerLength(step, n), sites, deadline);
      const r = await open(phase);
      if (r.sites.size !== sites.size) {
        throw new FedrxError('E_ROUND_FAILED', `round 1: step ${step} of the solve lacks answers (${describeRefusals(r.outcomes)}); it needs every participant`);
      }
      sites = r.sites;
      return r;
    },
    /** Step 0's outcomes with each participant's last transcript link and signature. */
    outcomes: (first: SiteOutcome[]): SiteOutcome[] =>
      first.map((o) => {
        const s = sites.get(o.siteId);
        return s === undefined || o.status !== 'accepted' ? o : { ...o, updateHash: s.transcript!, signature: s.signature };
      }),
  };
}

/** Wide data: X̃ᵀy, then one round trip per conjugate-gradient iteration for X̃ᵀX̃·p. One penalty. */
async function byProducts(io: ExactIo, run: RunRow, task: TaskConfig, parentHash: string, selected: ReadonlySet<string>, width: number): Promise<ExactSolve> {
  const { config } = run;
  const l2 = config.study.model.l2;
  if (isSearch(l2)) {
    return { reason: `round 1: E_BAD_PENALTY: at ${width} features and ${task.preprocessing.rows} rows the exact fit runs by conjugate gradient, which takes one l2 value, not a grid or 'auto'`, outcomes: [] };
  }
  const solve = iterativeSolve(io, run, task, parentHash, 'products', (step) => (step === 0 ? width + 2 : width + 1));
  const start = await solve.start(selected);
  if (start.sites.size < config.minSites) {
    return { reason: `round 1: ${phaseFailure('answers', start.sites.size, config.minSites, start.outcomes, config.roundTimeoutSec)}`, outcomes: start.outcomes };
  }
  const n = start.answers.reduce((s, a) => s + a.n, 0);
  try {
    const fit = await ridgeByCg(width, n, singlePenalty(l2), sumVectors(start.answers, width + 1), async (p) => sumVectors((await solve.next(p)).answers, width + 1), {
      onIteration: (i, rel) => {
        if (i % 25 === 0) io.log(`conjugate gradient iteration ${i}, relative residual ${rel.toExponential(2)}`);
      },
    });
    io.log(`conjugate gradient converged in ${fit.iterations} iterations (relative residual ${fit.relResidual.toExponential(2)})`);
    return { fit, selection: null, outcomes: solve.outcomes(start.outcomes) };
  } catch (e) {
    if (isFedrxError(e, 'E_ROUND_FAILED')) return { reason: e.message, outcomes: start.outcomes };
    throw e;
  }
}

/** Binary logistic regression: Newton steps from the sites' gradients and factored Hessians. One penalty. */
async function byNewton(io: ExactIo, run: RunRow, task: TaskConfig, parentHash: string, selected: ReadonlySet<string>, width: number): Promise<ExactSolve> {
  const { config } = run;
  const l2 = config.study.model.l2;
  if (isSearch(l2)) return { reason: `round 1: E_BAD_PENALTY: exact logistic regression takes one l2 value, not a grid or 'auto'`, outcomes: [] };
  // Each step carries a factored Hessian of min(n, d+1)·(d+1) values per site; wider needs L-BFGS (not implemented).
  if (exactMode(width, task.preprocessing.rows) === 'products') {
    return { reason: `round 1: E_BAD_REQUEST: exact logistic regression at ${width} features and ${task.preprocessing.rows} rows is beyond the factored Newton path (L-BFGS on summed gradients is not implemented)`, outcomes: [] };
  }
  const lambda = singlePenalty(l2);
  const solve = iterativeSolve(io, run, task, parentHash, 'newton', (_, n) => newtonAnswerLength(width, n));
  const start = await solve.start(selected);
  let answers = start.answers;
  if (answers.length < config.minSites) {
    return { reason: `round 1: ${answers.length} of the ${config.minSites} answers needed arrived (${describeRefusals(start.outcomes)})`, outcomes: start.outcomes };
  }
  let beta: Float64Array = new Float64Array(width + 1);
  try {
    for (let it = 1; it <= MAX_NEWTON_STEPS; it++) {
      const step = await newtonStep(beta, answers, width, lambda);
      beta = step.beta;
      io.log(`Newton step ${it}, objective ${step.objective.toFixed(8)} before it, step size ${step.stepSize.toExponential(2)}`);
      if (step.stepSize <= 1e-10 * beta.reduce((m, b) => Math.max(m, Math.abs(b)), 1)) break;
      answers = (await solve.next(beta)).answers;
    }
  } catch (e) {
    if (isFedrxError(e, 'E_ROUND_FAILED')) return { reason: e.message, outcomes: start.outcomes };
    throw e;
  }
  return { fit: { lambda, w: beta.slice(0, width), b: beta[width]! }, selection: null, outcomes: solve.outcomes(start.outcomes) };
}
