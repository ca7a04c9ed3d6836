// FedAdam (Reddi et al. 2021, "Adaptive Federated Optimization", Algorithm 2). The weighted mean of
// the sites' weights minus the global weights is a pseudo-gradient Δ; the server runs Adam on it:
//   m ← β1·m + (1−β1)·Δ        v ← β2·v + (1−β2)·Δ²        w ← w + η·m / (√v + τ)
// (no bias correction, as in the paper). m and v are the run's state: one Float64Array per tensor
// each, zero at the start of the run, held by the Strategy instance and updated only by a finalize
// that returns a model. Memory is O(model size): the mean is read from the aggregator's float64
// sums, never rounded to float32 before Δ is taken.
//
// Defaults, chosen for sites that send full weights after a few local epochs (so Δ is a whole
// local trajectory, not one gradient step):
//   serverLr η = 0.1   in the paper's well-performing range for FedAdam (10^-1.5 … 10^0 on most
//                      tasks); early steps move each weight by about η·sign(Δ), so η bounds how
//                      far one round may go.
//   beta1 β1 = 0.9     the paper's value.
//   beta2 β2 = 0.99    the paper's value; forgets old Δ² within ~100 rounds, which a federated
//                      run of tens of rounds needs (0.999 would keep v dominated by round 1).
//   tau τ = 1e-3       the paper's most often best value; coordinates whose |Δ| stays well
//                      under τ/√(1−β2) = 0.01 get smaller, SGD-like steps instead of sign steps.

import type { Weights } from '../../shared/tensors.js';
import { WeightedMeanAggregator } from './fedavg.js';
import type { AcceptResult, AggregateResult, RoundContext, SiteUpdate, Strategy, StrategyOptions } from './types.js';

export const FEDADAM_DEFAULTS = { serverLr: 0.1, beta1: 0.9, beta2: 0.99, tau: 1e-3 } as const;

export interface FedAdamHyperparameters {
  readonly serverLr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly tau: number;
}

/** The run's moments: one Float64Array per tensor of the global model, in its order. */
export interface FedAdamMoments {
  readonly m: readonly Float64Array[];
  readonly v: readonly Float64Array[];
}

export interface FedAdamStrategy extends Strategy {
  readonly name: 'fedadam';
  readonly hyperparameters: FedAdamHyperparameters;
  /**
   * The live moments (not copies), or null before the first round that produced a model.
   * For inspection only: writing into them changes the run.
   */
  readonly moments: FedAdamMoments | null;
}

type Moments = { m: Float64Array[]; v: Float64Array[] };

function hyper(options: StrategyOptions): FedAdamHyperparameters {
  const pick = (key: keyof FedAdamHyperparameters, ok: (x: number) => boolean, range: string): number => {
    const x = options[key] ?? FEDADAM_DEFAULTS[key];
    if (!Number.isFinite(x) || !ok(x)) throw new RangeError(`fedadam: ${key} must be in ${range}, got ${x}`);
    return x;
  };
  return {
    serverLr: pick('serverLr', (x) => x > 0 && x <= 10, '(0, 10]'),
    beta1: pick('beta1', (x) => x >= 0 && x < 1, '[0, 1)'),
    beta2: pick('beta2', (x) => x >= 0 && x < 1, '[0, 1)'),
    tau: pick('tau', (x) => x > 0 && x <= 1, '(0, 1]'),
  };
}

class FedAdamAggregator extends WeightedMeanAggregator {
  private result: AggregateResult | null = null;

  constructor(
    ctx: RoundContext,
    private readonly h: FedAdamHyperparameters,
    private readonly moments: () => Moments,
  ) {
    super(ctx);
  }

  override accept(update: SiteUpdate): AcceptResult {
    // The server step has been taken: a late update can no longer count.
    if (this.result !== null) return { accepted: false, code: 'E_STALE_ROUND', reason: `round ${this.ctx.round} is already aggregated` };
    return super.accept(update);
  }

  /** Takes the server step once; later calls return the same result without touching the state. */
  override finalize(): AggregateResult | null {
    if (this.result !== null) return this.result;
    if (this.total === 0) return null;
    const { serverLr, beta1, beta2, tau } = this.h;
    const { m, v } = this.moments();
    const inv = 1 / this.total;
    const weights: Weights = this.ctx.globalWeights.map((t, k) => {
      const sum = this.sums[k]!;
      const mk = m[k]!;
      const vk = v[k]!;
      const w = t.data;
      const data = new Float32Array(w.length);
      for (let i = 0; i < w.length; i++) {
        const d = sum[i]! * inv - w[i]!;
        const mi = beta1 * mk[i]! + (1 - beta1) * d;
        const vi = beta2 * vk[i]! + (1 - beta2) * d * d;
        mk[i] = mi;
        vk[i] = vi;
        data[i] = w[i]! + (serverLr * mi) / (Math.sqrt(vi) + tau);
      }
      return { name: t.name, shape: [...t.shape], data };
    });
    this.result = { weights, totalExamples: this.total, contributors: this.seen.size };
    return this.result;
  }
}

/** Throws RangeError when an option is out of the API schema's bounds. */
export function fedAdam(options: StrategyOptions = {}): FedAdamStrategy {
  const h = hyper(options);
  let state: Moments | null = null;
  // Allocated by the first finalize that produces a model, so a run whose rounds all fail costs nothing.
  const moments =
    (globalWeights: Weights) =>
    (): Moments =>
      (state ??= {
        m: globalWeights.map((t) => new Float64Array(t.data.length)),
        v: globalWeights.map((t) => new Float64Array(t.data.length)),
      });
  return {
    name: 'fedadam',
    hyperparameters: Object.freeze(h),
    get moments(): FedAdamMoments | null {
      return state;
    },
    beginRound(ctx: RoundContext) {
      if (state !== null) {
        const sizes = ctx.globalWeights.map((t) => t.data.length);
        if (sizes.length !== state.m.length || sizes.some((n, k) => n !== state?.m[k]?.length)) {
          throw new Error(`fedadam: round ${ctx.round} has another model shape than earlier rounds of run ${ctx.runId}`);
        }
      }
      return new FedAdamAggregator(ctx, h, moments(ctx.globalWeights));
    },
  };
}
