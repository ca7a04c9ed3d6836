// The checks every update passes before any strategy folds it in. Pure; order matters only for
// which reason is reported first (cheapest and most telling first). Whether every value is finite
// is checked while folding (aggregate.ts foldWeighted), in the same pass over the weights.

import { firstNonFinite, sizeOf, specMismatch } from '../../shared/tensors.js';
import type { AcceptResult, RoundContext, SiteUpdate, SiteUpdateStart } from './types.js';

/** `u` whole, or a chunked update's start (its tensor table: the values are checked as they arrive). */
export function checkUpdate(ctx: RoundContext, alreadyIn: ReadonlySet<string>, u: SiteUpdate | SiteUpdateStart): AcceptResult {
  if (u.runId !== ctx.runId) return { accepted: false, code: 'E_WRONG_RUN', reason: `update is for run ${u.runId}, current run is ${ctx.runId}` };
  if (u.round !== ctx.round) return { accepted: false, code: 'E_STALE_ROUND', reason: `update is for round ${u.round}, current round is ${ctx.round}` };
  if (!ctx.selected.has(u.siteId)) return { accepted: false, code: 'E_NOT_SELECTED', reason: `site ${u.siteId} was not selected for round ${ctx.round}` };
  if (alreadyIn.has(u.siteId)) return { accepted: false, code: 'E_DUPLICATE_UPDATE', reason: `site ${u.siteId} already sent an update for round ${ctx.round}` };
  if (u.baseModelHash !== ctx.globalHash) return { accepted: false, code: 'E_BASE_MODEL', reason: 'update was trained from another base model' };
  if (!Number.isSafeInteger(u.numExamples) || u.numExamples < 1) {
    return { accepted: false, code: 'E_BAD_EXAMPLES', reason: 'example count must be a positive integer' };
  }
  const mismatch = specMismatch('weights' in u ? u.weights : u.tensors, ctx.globalWeights);
  if (mismatch !== null) return { accepted: false, code: 'E_SHAPE_MISMATCH', reason: mismatch };
  if (!('weights' in u)) return { accepted: true };
  // The declared shape must also match the data actually carried (a short array would be folded as zeros).
  const ragged = u.weights.find((t) => t.data.length !== sizeOf(t.shape));
  if (ragged !== undefined) {
    return { accepted: false, code: 'E_SHAPE_MISMATCH', reason: `tensor ${ragged.name}: ${ragged.data.length} values for shape [${ragged.shape.join(',')}]` };
  }
  return { accepted: true };
}

/** The refusal of a chunk holding NaN or ±Infinity (flat index from the update's start), or null: checked before a chunk is kept or folded. */
export function chunkNonFinite(offset: number, values: Float32Array): AcceptResult | null {
  const bad = firstNonFinite([{ name: 'chunk', shape: [values.length], data: values }]);
  return bad === null ? null : { accepted: false, code: 'E_NON_FINITE', reason: `the update holds a non-finite value at flat index ${offset + bad[1]}` };
}
