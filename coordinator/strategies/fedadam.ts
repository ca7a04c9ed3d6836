// FedAdam (Reddi et al. 2021, "Adaptive Federated Optimization", Algorithm 2). The weighted mean of
// the sites' weights minus the global weights is a pseudo-gradient Δ; the server runs Adam on it
// (aggregate.ts adamStep). m and v are the run's state: one Float64Array per tensor each, zero at
// the start of the run, updated only by a finalize that returns a model; snapshot() copies them
// out losslessly so that a run resumed from a committed round takes exactly the steps it would have.
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

import { Type } from '@sinclair/typebox';
import { FedrxError } from '../../shared/errors.js';
import { sizeOf, specMismatch, specsOf, type TensorSpec, type Weights } from '../../shared/tensors.js';
import { adamStep, type AdamHyperparameters } from './aggregate.js';
import type { IterativeStrategyDescriptor } from './descriptor.js';
import { WeightedMeanAggregator } from './weighted-mean.js';
import type { AcceptResult, AggregateResult, RoundContext, SiteUpdate, SiteUpdateStart, Strategy, SummedUpdate, StrategyState } from './types.js';

const options = Type.Object(
  {
    serverLr: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10, default: 0.1, description: 'server learning rate η' })),
    beta1: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.9, description: 'first-moment decay β1' })),
    beta2: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.99, description: 'second-moment decay β2' })),
    tau: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 1e-3, description: 'adaptivity τ, added to √v' })),
  },
  { additionalProperties: false },
);

/** The run's moments: one Float64Array per tensor of the global model (`specs`), in its order. */
export interface FedAdamMoments {
  readonly specs: readonly TensorSpec[];
  readonly m: readonly Float64Array[];
  readonly v: readonly Float64Array[];
}

export interface FedAdamStrategy extends Strategy {
  readonly name: 'fedadam';
  readonly hyperparameters: AdamHyperparameters;
  /**
   * The live moments (not copies), or null before the first round that produced a model.
   * For inspection only: writing into them changes the run.
   */
  readonly moments: FedAdamMoments | null;
}

export const fedAdam: IterativeStrategyDescriptor<'fedadam', typeof options.properties> = {
  name: 'fedadam',
  kind: 'iterative',
  sumsSecurely: true,
  summary: "Adam on the server over the change of the sites' mean, moments kept across rounds (Reddi et al. 2021)",
  options,
  create: (h, saved) => fedAdamStrategy(h, saved === null ? null : momentsFromState(saved)),
};

function fedAdamStrategy(h: AdamHyperparameters, restored: FedAdamMoments | null): FedAdamStrategy {
  let state = restored;
  // Allocated by the first finalize that produces a model, so a run whose rounds all fail costs nothing.
  const moments = (globalWeights: Weights) => (): FedAdamMoments =>
    (state ??= {
      specs: specsOf(globalWeights),
      m: globalWeights.map((t) => new Float64Array(t.data.length)),
      v: globalWeights.map((t) => new Float64Array(t.data.length)),
    });
  return {
    name: 'fedadam',
    hyperparameters: Object.freeze({ ...h }),
    get moments(): FedAdamMoments | null {
      return state;
    },
    beginRound(ctx: RoundContext) {
      const mismatch = state === null ? null : specMismatch(ctx.globalWeights, state.specs);
      if (mismatch !== null) throw new FedrxError('E_STRATEGY_STATE', `fedadam: the moments of run ${ctx.runId} do not fit round ${ctx.round}'s model: ${mismatch}`);
      return new FedAdamAggregator(ctx, h, moments(ctx.globalWeights));
    },
    snapshot(): StrategyState | null {
      if (state === null) return null;
      const { specs, m, v } = state;
      const named = (prefix: string, arrays: readonly Float64Array[]) =>
        specs.map((s, k) => ({ name: `${prefix}/${s.name}`, shape: [...s.shape], data: new Float64Array(arrays[k]!) }));
      return [...named('m', m), ...named('v', v)];
    },
  };
}

class FedAdamAggregator extends WeightedMeanAggregator {
  private result: AggregateResult | null = null;

  constructor(
    ctx: RoundContext,
    private readonly h: AdamHyperparameters,
    private readonly moments: () => FedAdamMoments,
  ) {
    super(ctx);
  }

  override accept(update: SiteUpdate): AcceptResult {
    // The server step has been taken: a late update can no longer count.
    if (this.result !== null) return { accepted: false, code: 'E_STALE_ROUND', reason: `round ${this.ctx.round} is already aggregated` };
    return super.accept(update);
  }

  override beginStream(start: SiteUpdateStart): ReturnType<WeightedMeanAggregator['beginStream']> {
    if (this.result !== null) return { accepted: false, code: 'E_STALE_ROUND', reason: `round ${this.ctx.round} is already aggregated` };
    return super.beginStream(start);
  }

  override acceptSum(sum: SummedUpdate): AcceptResult {
    if (this.result !== null) return { accepted: false, code: 'E_STALE_ROUND', reason: `round ${this.ctx.round} is already aggregated` };
    return super.acceptSum(sum);
  }

  /** Takes the server step once; later calls return the same result without touching the state. */
  override finalize(): AggregateResult | null {
    if (this.result !== null) return this.result;
    if (this.total === 0) return null;
    const { m, v } = this.moments();
    const weights: Weights = this.ctx.globalWeights.map((t, k) => ({
      name: t.name,
      shape: [...t.shape],
      data: adamStep(t.data, this.sums[k]!, this.total, m[k]!, v[k]!, this.h),
    }));
    this.result = { weights, totalExamples: this.total, contributors: this.seen.size };
    return this.result;
  }
}

/**
 * Moments from a snapshot: `m/NAME` for every tensor of the model, then `v/NAME` in the same order
 * and shapes, all finite, v ≥ 0. Whether they fit the model is checked when a round begins.
 */
function momentsFromState(saved: StrategyState): FedAdamMoments {
  const bad = (why: string): FedrxError => new FedrxError('E_STRATEGY_STATE', `fedadam: saved moments ${why}`);
  const half = saved.length / 2;
  if (!Number.isInteger(half) || half === 0) throw bad(`hold ${saved.length} tensors, not m and v for each tensor of the model`);
  const specs: TensorSpec[] = [];
  for (let k = 0; k < half; k++) {
    const [m, v] = [saved[k]!, saved[half + k]!];
    if (!m.name.startsWith('m/')) throw bad(`tensor ${k} is named ${m.name}, not m/…`);
    const name = m.name.slice(2);
    if (v.name !== `v/${name}`) throw bad(`tensor ${half + k} is named ${v.name}, not v/${name}`);
    if (specMismatch([{ name, shape: v.shape }], [{ name, shape: m.shape }]) !== null) throw bad(`m and v of ${name} differ in shape`);
    specs.push({ name, shape: [...m.shape] });
  }
  for (const [k, t] of saved.entries()) {
    if (t.data.length !== sizeOf(t.shape)) throw bad(`tensor ${t.name} holds ${t.data.length} values for shape [${t.shape.join(',')}]`);
    for (let i = 0; i < t.data.length; i++) {
      const x = t.data[i]!;
      if (!Number.isFinite(x) || (k >= half && x < 0)) throw bad(`tensor ${t.name} holds ${Number.isFinite(x) ? 'a negative' : 'a non-finite'} value at ${i}`);
    }
  }
  // Copies: the run updates its moments in place, and `saved` may be handed to another instance too.
  const copy = (tensors: StrategyState) => tensors.map((t) => new Float64Array(t.data));
  return { specs, m: copy(saved.slice(0, half)), v: copy(saved.slice(half)) };
}
