// Checks on a strategy's saved state (types.ts StrategyState) handed back to its factory on
// resume. It comes from the coordinator's own database, but a file can be damaged or written by
// another version: it is checked like input, and refused with E_STRATEGY_STATE.

import { FedrxError } from '../../shared/errors.js';
import type { StrategyState } from './types.js';

/** For a strategy that keeps nothing across rounds: any saved state is someone else's. */
export function expectNoState(strategy: string, saved: StrategyState | null): void {
  if (saved !== null) throw new FedrxError('E_STRATEGY_STATE', `${strategy} keeps no state across rounds, but was given ${saved.length} saved tensors`);
}
