// Every strategy a run may choose. Adding one is its module (a descriptor, descriptor.ts) and one
// line in STRATEGIES: the run configuration's options, the body of POST /v1/runs and the flags
// and help of `fedrx run start` are derived from this list.

import { Type, type Static, type TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { FedrxError } from '../../shared/errors.js';
import { expectSchema } from '../../shared/wire.js';
import type { IterativeStrategyDescriptor, OptionProperties, SiteTaskOptions, StrategyDescriptor } from './descriptor.js';
import { exact } from './exact.js';
import { fedAdam } from './fedadam.js';
import { fedAvg } from './fedavg.js';
import { fedProx } from './fedprox.js';
import { median } from './median.js';
import { multiKrum } from './multi-krum.js';
import { trimmedMean } from './trimmed-mean.js';
import { centeredClipping } from './centered-clipping.js';
import type { Strategy, StrategyState } from './types.js';

export const STRATEGIES = [fedAvg, fedProx, fedAdam, median, trimmedMean, multiKrum, centeredClipping, exact] as const;

type Registered = (typeof STRATEGIES)[number];
export type StrategyName = Registered['name'];
/** The strategies the runner drives round by round (an aggregator each). */
export type IterativeStrategyName = Extract<Registered, { kind: 'iterative' }>['name'];

export const STRATEGY_NAMES: readonly StrategyName[] = STRATEGIES.map((s) => s.name);
export const StrategyNameSchema = Type.Union(STRATEGY_NAMES.map((n) => Type.Literal(n)));
export const DEFAULT_STRATEGY: StrategyName = 'fedavg';

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
type PropertiesOf<D> = D extends { readonly options: TObject<infer P> } ? P : never;
/** Every registered strategy's options, in one flat namespace (the stored `strategyOptions`). */
export type StrategyOptionProperties = UnionToIntersection<PropertiesOf<Registered>>;

/**
 * Each option as its strategy states it, without its default: the views that validate (the
 * RunConfig, the REST body) must never fill one in, or every run would store every strategy's
 * defaults. An option two strategies share must be stated the same way in both.
 */
export function mergedOptions(descriptors: readonly StrategyDescriptor[]): OptionProperties {
  const merged: OptionProperties = {};
  for (const d of descriptors) {
    for (const [key, schema] of Object.entries(d.options.properties)) {
      const { default: _default, ...validation } = schema;
      const earlier = merged[key];
      if (earlier !== undefined && JSON.stringify(earlier) !== JSON.stringify(validation)) {
        throw new FedrxError('E_INTERNAL', `strategy ${d.name} states option ${key} differently from another strategy`);
      }
      merged[key] = validation as typeof schema;
    }
  }
  return merged;
}

export const STRATEGY_OPTION_PROPERTIES = mergedOptions(STRATEGIES) as StrategyOptionProperties;
/** The run configuration's `strategyOptions`: any registered option, nothing else. */
export const StrategyOptionsSchema = Type.Object(STRATEGY_OPTION_PROPERTIES, { additionalProperties: false });
export type StrategyOptions = Static<typeof StrategyOptionsSchema>;
export type StrategyOptionName = keyof StrategyOptionProperties & string;
export const STRATEGY_OPTION_NAMES = Object.keys(STRATEGY_OPTION_PROPERTIES) as StrategyOptionName[];

export function strategyDescriptor(name: StrategyName): StrategyDescriptor {
  const d = STRATEGIES.find((s) => s.name === name);
  if (d === undefined) throw new FedrxError('E_BAD_REQUEST', `unknown strategy ${String(name)}`);
  return d;
}

/** The strategies that take `option` (most options belong to one). */
export function optionOwners(option: StrategyOptionName): StrategyName[] {
  return STRATEGIES.filter((s) => Object.hasOwn(s.options.properties, option)).map((s) => s.name);
}

/**
 * The run's `strategyOptions` from flat fields (a POST /v1/runs body): every registered option
 * present in `fields`, refused (E_BAD_REQUEST) when it belongs to another strategy than `name`.
 * Values were validated with the same schemas at the boundary.
 */
export function strategyOptionsFor(name: StrategyName, fields: Partial<Record<StrategyOptionName, unknown>>): StrategyOptions {
  const own = strategyDescriptor(name).options.properties;
  const picked: Record<string, unknown> = {};
  for (const key of STRATEGY_OPTION_NAMES) {
    if (fields[key] === undefined) continue;
    if (!Object.hasOwn(own, key)) throw new FedrxError('E_BAD_REQUEST', `${key} is an option of ${optionOwners(key).join(', ')}, not of strategy ${name}`);
    picked[key] = fields[key];
  }
  return expectSchema(StrategyOptionsSchema, picked, 'E_BAD_REQUEST', 'strategy options');
}

/**
 * `name`'s own options from a run's `strategyOptions` (others are ignored: runs stored before they
 * were refused may hold them), checked, with the schema's defaults filled in.
 */
function resolvedOptions(d: StrategyDescriptor, options: StrategyOptions): Record<string, unknown> {
  const own = Object.fromEntries(Object.entries(options).filter(([key]) => Object.hasOwn(d.options.properties, key)));
  return expectSchema(d.options, Value.Default(d.options, own), 'E_BAD_REQUEST', `${d.name} options`) as Record<string, unknown>;
}

function iterative(name: StrategyName): IterativeStrategyDescriptor {
  const d = strategyDescriptor(name);
  if (d.kind !== 'iterative') throw new FedrxError('E_BAD_REQUEST', `strategy ${name} is not iterative: the round runner fits it itself`);
  return d;
}

/**
 * A fresh instance for one run, or (with `saved`, a snapshot() of the same run's strategy) the
 * instance as it was after that round. E_BAD_REQUEST for an unknown or non-iterative name or an
 * option out of bounds; E_STRATEGY_STATE when `saved` does not fit.
 */
export function createStrategy(name: IterativeStrategyName, options: StrategyOptions, saved: StrategyState | null = null): Strategy {
  const d = iterative(name);
  return d.create(resolvedOptions(d, options), saved);
}

/** What the sites need from the run's strategy, for every task sent to them. */
/** Whether a run of `name` can aggregate a secure sum (exact fits sum statistics the plain way, for now). */
export function strategySumsSecurely(name: StrategyName): boolean {
  const d = strategyDescriptor(name);
  return d.kind === 'iterative' && d.sumsSecurely;
}

/** Why a run of `name` with these options cannot work (robust rules' conditions on the number of updates), or null. */
export function strategyRunProblem(name: StrategyName, options: StrategyOptions, run: { minSites: number }): string | null {
  const d = strategyDescriptor(name);
  return d.kind === 'iterative' && d.checkRun !== undefined ? d.checkRun(resolvedOptions(d, options), run) : null;
}

export function siteTaskOptions(name: StrategyName, options: StrategyOptions): SiteTaskOptions {
  const d = strategyDescriptor(name);
  return d.kind === 'iterative' && d.siteOptions !== undefined ? d.siteOptions(resolvedOptions(d, options)) : { proximalMu: 0 };
}
