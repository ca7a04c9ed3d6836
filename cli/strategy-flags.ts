// The strategy flags of `fedrx run start`, derived from the strategy registry: `--strategy` with
// its choices, and one flag per strategy option, named after the option in kebab-case
// (serverLr → --server-lr), its help made from the option's description, bounds and default, and
// its value checked against the very schema the coordinator checks the request body with.

import { InvalidArgumentError, Option } from 'commander';
import { KindGuard, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { FedrxError, isFedrxError } from '../shared/errors.js';
import {
  DEFAULT_STRATEGY,
  STRATEGIES,
  STRATEGY_NAMES,
  STRATEGY_OPTION_NAMES,
  STRATEGY_OPTION_PROPERTIES,
  optionOwners,
  type StrategyOptionName,
} from '../coordinator/strategies/registry.js';

/** `--server-lr` for serverLr: commander maps it back to the same camelCase name. */
export function flagOf(option: string): string {
  return `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The option's schema (bounds, description) as the strategies that take it state it. */
function stated(option: StrategyOptionName): TSchema {
  return STRATEGY_OPTION_PROPERTIES[option];
}

/** "0.1", or "0.1 for fedadam, 0.01 for fedyogi" when strategies sharing the option differ; null for none. */
function defaultText(option: StrategyOptionName): string | null {
  const defaults = STRATEGIES.filter((s) => Object.hasOwn(s.options.properties, option))
    .map((s) => [s.name, (s.options.properties as Record<string, TSchema>)[option]!.default] as const)
    .filter(([, d]) => d !== undefined);
  if (defaults.length === 0) return null;
  if (defaults.every(([, d]) => d === defaults[0]![1])) return String(defaults[0]![1]);
  return defaults.map(([name, d]) => `${String(d)} for ${name}`).join(', ');
}

/** The literal values of an option that is a choice, or null for a number. */
function choicesOf(schema: TSchema): string[] | null {
  if (!KindGuard.IsUnion(schema)) return null;
  return schema.anyOf.filter((s) => KindGuard.IsLiteral(s)).map((s) => String(s.const));
}

/** "0 < x ≤ 10", "an integer, 2 ≤ n ≤ 20": the bounds of a numeric option, as in its schema. */
export function boundsText(schema: TSchema): string {
  const v = KindGuard.IsInteger(schema) ? 'n' : 'x';
  const lo = schema.exclusiveMinimum !== undefined ? `${schema.exclusiveMinimum} < ` : schema.minimum !== undefined ? `${schema.minimum} ≤ ` : '';
  const hi = schema.exclusiveMaximum !== undefined ? ` < ${schema.exclusiveMaximum}` : schema.maximum !== undefined ? ` ≤ ${schema.maximum}` : '';
  return `${KindGuard.IsInteger(schema) ? 'an integer, ' : ''}${lo}${v}${hi}`;
}

/** "fedadam: server learning rate η; 0 < x ≤ 10 (default 0.1)". */
export function optionHelp(option: StrategyOptionName): string {
  const schema = stated(option);
  const bounds = choicesOf(schema) === null ? `; ${boundsText(schema)}` : '';
  const byDefault = defaultText(option) === null ? '' : ` (default ${defaultText(option)})`;
  return `${optionOwners(option).join(', ')}: ${String(schema.description ?? option)}${bounds}${byDefault}`;
}

/** A flag's value as the number its schema asks for; E_BAD_REQUEST naming the flag and the bounds. */
export function parseOptionValue(option: StrategyOptionName, raw: string): number {
  const schema = stated(option);
  const x = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Value.Check(schema, x)) throw new FedrxError('E_BAD_REQUEST', `${flagOf(option)} must be ${boundsText(schema)}, got "${raw}"`);
  return x;
}

function optionFlag(option: StrategyOptionName): Option {
  const choices = choicesOf(stated(option));
  const flag = new Option(`${flagOf(option)} <${choices !== null ? 'name' : KindGuard.IsInteger(stated(option)) ? 'n' : 'x'}>`, optionHelp(option));
  if (choices !== null) return flag.choices(choices);
  return flag.argParser((raw: string) => {
    try {
      return parseOptionValue(option, raw);
    } catch (e) {
      // Commander prints it as "error: option '--mu <x>' argument '101' is invalid. E_BAD_REQUEST: …" and exits 1.
      throw isFedrxError(e) ? new InvalidArgumentError(`${e.code}: ${e.message}`) : e;
    }
  });
}

/** `--strategy` and every strategy option's flag. */
export function strategyFlags(): Option[] {
  const strategy = new Option('--strategy <name>', `server strategy (default ${DEFAULT_STRATEGY}; exact when the penalty is a grid or auto; see Strategies below)`).choices(
    STRATEGY_NAMES,
  );
  return [strategy, ...STRATEGY_OPTION_NAMES.map(optionFlag)];
}

/** The strategies and their one-line summaries, for the end of `--help`. */
export function strategiesHelp(): string {
  const width = Math.max(...STRATEGY_NAMES.map((n) => n.length));
  return ['', 'Strategies:', ...STRATEGIES.map((s) => `  ${s.name.padEnd(width)}  ${s.summary}`)].join('\n');
}

/** The strategy options among parsed flags, as the flat fields of a POST /v1/runs body. */
export function strategyOptionFields(flags: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(STRATEGY_OPTION_NAMES.filter((o) => flags[o] !== undefined).map((o) => [o, flags[o]]));
}
