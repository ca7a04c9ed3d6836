// A strategy's saved state (types.ts StrategyState) as bytes, and the checks every strategy
// applies to state handed back to it on resume. The state is read back from the coordinator's own
// database, but a file can be damaged or belong to another run: it is checked like input.

import { FedrxError } from '../../shared/errors.js';
import { decodeFrame64, encodeFrame64 } from '../../shared/tensor-codec.js';
import type { StrategyState } from './types.js';

/** A float64 frame (lossless) whose header names the strategy that wrote it. */
export function encodeStrategyState(strategy: string, state: StrategyState): Buffer {
  return encodeFrame64({ kind: 'strategy-state', strategy }, state);
}

/** The state in `bytes`, refused (E_STRATEGY_STATE) unless it was written by `strategy`. */
export function decodeStrategyState(strategy: string, bytes: Uint8Array): StrategyState {
  const { header, tensors } = decodeFrame64(bytes);
  if (header.kind !== 'strategy-state' || header.strategy !== strategy) {
    throw new FedrxError('E_STRATEGY_STATE', `saved state is of ${String(header.kind)} ${String(header.strategy)}, not of strategy ${strategy}`);
  }
  return tensors;
}

/** For a strategy that keeps nothing across rounds: any saved state is someone else's. */
export function expectNoState(strategy: string, saved: StrategyState | null): void {
  if (saved !== null) throw new FedrxError('E_STRATEGY_STATE', `${strategy} keeps no state across rounds, but was given ${saved.length} saved tensors`);
}
