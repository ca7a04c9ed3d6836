// Error feedback (Seide et al. 2014; Karimireddy et al. 2019): what a site did not send this round
// is added to its next round's change, so nothing is lost, only late. Over rounds the sent vectors
// plus the last residual add up to the sum of the dense changes.

import { FedrxError } from '../errors.js';

/** The change the site means to send: this round's plus what earlier rounds left out. */
export function compensate(delta: Float32Array, residual: Float32Array | null): Float32Array {
  const out = new Float32Array(delta);
  if (residual === null) return out;
  if (residual.length !== delta.length) throw new FedrxError('E_INTERNAL', `a residual of ${residual.length} values for a change of ${delta.length}`);
  for (let i = 0; i < out.length; i++) out[i] = out[i]! + residual[i]!;
  return out;
}

/** What was meant minus what the coordinator will read: carried into the next round. */
export function residualOf(meant: Float32Array, read: Float32Array): Float32Array {
  const out = new Float32Array(meant.length);
  for (let i = 0; i < out.length; i++) out[i] = meant[i]! - read[i]!;
  return out;
}
