// The strategies a run may choose, by name, and the bounds of their options. Each run gets its
// own instance from createStrategy, since a strategy may keep state across a run's rounds.

import type { IterativeStrategyName } from '../../shared/run-config.js';
import { createFedAvg } from './fedavg.js';
import { fedAdam } from './fedadam.js';
import { fedProx } from './fedprox.js';
import type { Strategy, StrategyFactory, StrategyOptions } from './types.js';

export { STRATEGY_NAMES, StrategyNameSchema, StrategyOptionsSchema, type StrategyName } from '../../shared/run-config.js';

const FACTORIES: Readonly<Record<IterativeStrategyName, StrategyFactory>> = {
  fedavg: createFedAvg,
  fedprox: fedProx,
  fedadam: fedAdam,
};

/** A fresh instance for one run. Throws RangeError on an unknown name or an out-of-bounds option. */
export function createStrategy(name: IterativeStrategyName, options: StrategyOptions): Strategy {
  if (!Object.hasOwn(FACTORIES, name)) throw new RangeError(`unknown strategy ${String(name)}`);
  return FACTORIES[name](options);
}
