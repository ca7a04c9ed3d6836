// The strategy registry and the three views derived from it: the REST body of POST /v1/runs (and
// the stored RunConfig), the flags of `fedrx run start`, and its --help. Every option of every
// registered strategy must appear in each with the bounds its module states, and a value just
// outside a bound must be refused by both the coordinator (app.inject) and the CLI parser.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Command, CommanderError, type Option } from 'commander';
import { KindGuard, Type, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addRunStartCommand } from '../../../cli/run-start-command.js';
import { FEDRX_BIN } from '../../../cli/spawn.js';
import { boundsText, flagOf, optionHelp, parseOptionValue, strategyOptionFields } from '../../../cli/strategy-flags.js';
import { buildCoordinator, type Coordinator } from '../../../coordinator/app.js';
import { CreateRunBody } from '../../../coordinator/http/schemas/runs.js';
import { RunConfigSchema } from '../../../coordinator/run-config-schema.js';
import { DEFAULT_FOLDS } from '../../../coordinator/strategies/exact.js';
import type { ExactStrategyDescriptor } from '../../../coordinator/strategies/descriptor.js';
import type { FedAdamStrategy } from '../../../coordinator/strategies/fedadam.js';
import {
  STRATEGIES,
  STRATEGY_NAMES,
  STRATEGY_OPTION_NAMES,
  StrategyOptionsSchema,
  createStrategy,
  mergedOptions,
  optionOwners,
  strategyOptionsFor,
  type IterativeStrategyName,
  type StrategyName,
  type StrategyOptionName,
} from '../../../coordinator/strategies/registry.js';
import { tempDir } from '../../helpers/temp.js';
import { TINY_STUDY } from '../../helpers/tiny-study.js';
import { thrownCode } from '../../helpers/error-code.js';
import { ctx, update } from './fixtures.js';

/** Every registered option with the strategy that states it and its schema, default included. */
const OPTIONS = STRATEGIES.flatMap((s) =>
  Object.entries(s.options.properties as Record<string, TSchema>).map(([option, schema]) => ({ strategy: s.name as StrategyName, option: option as StrategyOptionName, schema })),
);
const withoutDefault = (schema: TSchema): unknown => {
  const { default: _default, ...rest } = schema;
  return rest;
};
const descriptorOf = (name: StrategyName) => STRATEGIES.find((d) => d.name === name)!;
const choices = (schema: TSchema): string[] | null => (KindGuard.IsUnion(schema) ? schema.anyOf.map((s) => String(s.const)) : null);

/** Values just outside and just inside each bound of a numeric option, from its schema. */
function probes(schema: TSchema): { outside: number[]; inside: number[] } {
  const int = KindGuard.IsInteger(schema);
  const step = (b: number): number => (int ? 1 : 1e-9 * Math.max(1, Math.abs(b)));
  const outside: number[] = [];
  const inside: number[] = [];
  const { minimum: lo, maximum: hi, exclusiveMinimum: xlo, exclusiveMaximum: xhi } = schema as Record<string, number | undefined>;
  if (lo !== undefined) outside.push(lo - step(lo)), inside.push(lo);
  if (xlo !== undefined) outside.push(xlo), inside.push(xlo + step(xlo));
  if (hi !== undefined) outside.push(hi + step(hi)), inside.push(hi);
  if (xhi !== undefined) outside.push(xhi), inside.push(xhi - step(xhi));
  if (int) outside.push((inside[0] ?? 0) + 0.5);
  return { outside, inside };
}

describe('the registry', () => {
  it('lists fedavg, fedprox, fedadam, the robust rules and exact, each with a one-line summary and an options object that allows nothing else', () => {
    expect(STRATEGY_NAMES).toEqual(['fedavg', 'fedprox', 'fedadam', 'median', 'trimmed-mean', 'multi-krum', 'centered-clipping', 'exact']);
    expect(STRATEGIES.map((s) => s.kind)).toEqual(['iterative', 'iterative', 'iterative', 'iterative', 'iterative', 'iterative', 'iterative', 'exact']);
    for (const s of STRATEGIES) {
      expect(s.summary.length, s.name).toBeGreaterThan(20);
      expect(s.summary, s.name).not.toMatch(/\n/);
      expect(s.options.additionalProperties, s.name).toBe(false);
    }
    expect(STRATEGY_OPTION_NAMES).toEqual(['mu', 'serverLr', 'beta1', 'beta2', 'tau', 'trimBeta', 'byzantine', 'krumKeep', 'clipTau', 'folds', 'exactAlgorithm']);
    expect(STRATEGY_OPTION_NAMES.map(optionOwners)).toEqual([['fedprox'], ['fedadam'], ['fedadam'], ['fedadam'], ['fedadam'], ['trimmed-mean'], ['multi-krum'], ['multi-krum'], ['centered-clipping'], ['exact'], ['exact']]);
  });

  it('every option is optional and described; an iterative strategy\'s have defaults (its factory gets them all)', () => {
    for (const { strategy, option, schema } of OPTIONS) {
      expect(descriptorOf(strategy).options.required ?? [], option).not.toContain(option);
      expect(String(schema.description ?? '').length, option).toBeGreaterThan(5);
      if (descriptorOf(strategy).kind === 'iterative') expect(schema.default, option).toBeDefined();
      if (schema.default !== undefined) expect(Value.Check(schema, schema.default), option).toBe(true);
    }
    expect(DEFAULT_FOLDS).toBe(5);
  });

  it('two strategies may share an option stated the same way (its default aside), not one stated differently', () => {
    const lr = (maximum: number, value: number) => Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum, default: value, description: 'server learning rate η' }));
    const yogi = (maximum: number): ExactStrategyDescriptor => ({ name: 'yogi', kind: 'exact', summary: 'a test strategy', options: Type.Object({ serverLr: lr(maximum, 0.01) }) });
    const merged = mergedOptions([...STRATEGIES, yogi(10)]);
    expect(Object.keys(merged)).toEqual(STRATEGY_OPTION_NAMES);
    expect(merged.serverLr).toEqual(withoutDefault(lr(10, 0.5)));
    expect(thrownCode(() => mergedOptions([...STRATEGIES, yogi(1)]))).toBe('E_INTERNAL');
  });

  it('createStrategy builds each iterative strategy, a fresh instance per call; fedadam runs do not share moments', () => {
    for (const name of ['fedavg', 'fedprox', 'fedadam'] as const) {
      const one = createStrategy(name, {});
      expect(one.name).toBe(name);
      expect(createStrategy(name, {})).not.toBe(one);
    }
    const prox = createStrategy('fedprox', { mu: 0.2 });
    expect('proximalMu' in prox && prox.proximalMu).toBe(0.2);
    const a = createStrategy('fedadam', {}) as FedAdamStrategy;
    const b = createStrategy('fedadam', {}) as FedAdamStrategy;
    const agg = a.beginRound(ctx());
    agg.accept(update('A', 1, [1, 2, 3], [10]));
    expect(agg.finalize()).not.toBeNull();
    expect(a.moments).not.toBeNull();
    expect(b.moments).toBeNull();
  });

  it('an unknown or non-iterative name (from untyped input), or an option out of bounds, is refused with E_BAD_REQUEST', () => {
    for (const name of ['fedsgd', 'exact', 'toString', '']) expect(thrownCode(() => createStrategy(name as IterativeStrategyName, {})), name).toBe('E_BAD_REQUEST');
    expect(thrownCode(() => createStrategy('fedadam', { beta2: 1 }))).toBe('E_BAD_REQUEST');
    expect(thrownCode(() => createStrategy('fedprox', { mu: -1 }))).toBe('E_BAD_REQUEST');
    // Another strategy's option (a run stored before they were refused) is ignored, not an error.
    expect(createStrategy('fedavg', { mu: 3 }).name).toBe('fedavg');
  });

  it('StrategyOptionsSchema (the stored strategyOptions): every option optional and bounded, nothing else, no defaults', () => {
    for (const { option, schema } of OPTIONS) expect(StrategyOptionsSchema.properties[option], option).toEqual(withoutDefault(schema));
    expect(RunConfigSchema.properties.strategyOptions).toBe(StrategyOptionsSchema);
    const ok = [{}, { mu: 0 }, { mu: 100 }, { serverLr: 10 }, { serverLr: 1e-9 }, { beta1: 0, beta2: 0.999 }, { tau: 1 }, { folds: 2 }, { exactAlgorithm: 'products' }];
    const bad = [{ mu: -0.1 }, { mu: 100.1 }, { serverLr: 0 }, { beta1: 1 }, { tau: 1.5 }, { folds: 21 }, { exactAlgorithm: 'qr' }, { mu: '0.1' }, { lr: 0.1 }, null, []];
    for (const o of ok) expect(Value.Check(StrategyOptionsSchema, o), JSON.stringify(o)).toBe(true);
    for (const o of bad) expect(Value.Check(StrategyOptionsSchema, o), JSON.stringify(o)).toBe(false);
  });

  it('body → strategyOptions: the options given, only those of the run\'s strategy (another\'s is E_BAD_REQUEST, naming whose it is)', () => {
    expect(strategyOptionsFor('fedadam', { serverLr: 0.5, beta1: 0.8, rounds: 3 } as never)).toEqual({ serverLr: 0.5, beta1: 0.8 });
    expect(strategyOptionsFor('fedavg', {})).toEqual({});
    expect(strategyOptionsFor('exact', { folds: 3, exactAlgorithm: 'factors' })).toEqual({ folds: 3, exactAlgorithm: 'factors' });
    expect(() => strategyOptionsFor('fedavg', { mu: 0.1 })).toThrow(/mu is an option of fedprox, not of strategy fedavg/);
    expect(thrownCode(() => strategyOptionsFor('fedprox', { folds: 3 }))).toBe('E_BAD_REQUEST');
  });
});

describe('POST /v1/runs derives its strategy fields from the registry', () => {
  let c: Coordinator;
  let token: string;
  beforeAll(async () => {
    c = await buildCoordinator({ db: join(tempDir('registry'), 'c.sqlite'), log: () => {} });
    token = c.tokens.create('data-scientist').token;
  });
  afterAll(async () => {
    await c.close();
  });
  // No site ever connects: waitForSitesSec 0 ends each run at once.
  const post = (body: Record<string, unknown>) =>
    c.app.inject({ method: 'POST', url: '/v1/runs', payload: { study: 'synthetic-warfarin', waitForSitesSec: 0, ...body }, headers: { authorization: `Bearer ${token}` } });

  it('every option is a flat body field with its strategy\'s bounds and no default (the validator would fill it in)', () => {
    for (const { option, schema } of OPTIONS) expect(CreateRunBody.properties[option], option).toEqual(withoutDefault(schema));
    expect(CreateRunBody.properties.strategy.anyOf.map((l: TSchema) => l.const)).toEqual(STRATEGY_NAMES);
  });

  it('a value just outside a bound is 400 E_BAD_REQUEST naming the field; just inside, the run stores it', async () => {
    for (const { strategy, option, schema } of OPTIONS) {
      const values = choices(schema) === null ? probes(schema) : { outside: ['qr'], inside: choices(schema)! };
      expect(values.outside.length, option).toBeGreaterThan(0);
      for (const x of values.outside) {
        const res = await post({ strategy, [option]: x });
        expect(res.statusCode, `${option} ${x}`).toBe(400);
        expect(res.json().error.code).toBe('E_BAD_REQUEST');
        expect(res.json().error.message, `${option} ${x}`).toContain(option);
      }
      for (const x of values.inside) {
        // An exact fit needs a linear model (a penalty grid, so folds mean something).
        // Enough sites for Krum to tolerate up to 1000 hostile ones.
        const sites = strategy === 'multi-krum' ? { minSites: 2003 } : {};
        const res = await post({ strategy, [option]: x, ...sites, ...(strategy === 'exact' ? { study: TINY_STUDY, l2: [0.1, 1] } : {}) });
        expect(res.statusCode, `${option} ${x}: ${res.body}`).toBe(201);
        expect(res.json().config.strategyOptions, `${option} ${x}`).toEqual({ [option]: x });
      }
    }
  });

  it('an option of another strategy is refused; none given stores none (no defaults filled in)', async () => {
    const foreign = await post({ strategy: 'fedavg', serverLr: 0.5 });
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json().error).toEqual({ code: 'E_BAD_REQUEST', message: 'serverLr is an option of fedadam, not of strategy fedavg' });
    for (const strategy of ['fedavg', 'fedprox', 'fedadam'] as const) {
      const res = await post({ strategy });
      expect(res.statusCode).toBe(201);
      expect(res.json().config).toMatchObject({ strategy, strategyOptions: {} });
    }
  });
});

describe('`fedrx run start` derives its strategy flags and --help from the registry', () => {
  /** A `fedrx run start` whose action records the parsed options; errors throw instead of exiting. */
  function runStart(): { start: Command; parse: (args: string[]) => Promise<Record<string, unknown>> } {
    const program = new Command('fedrx').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    let seen: Record<string, unknown> = {};
    const wrap = <A extends unknown[]>(_fn: (...args: A) => Promise<void>) => async (...args: A): Promise<void> => {
      seen = args[0] as Record<string, unknown>;
    };
    const start = addRunStartCommand(program.command('run'), wrap);
    start.configureHelp({ helpWidth: 1000 });
    const parse = async (args: string[]): Promise<Record<string, unknown>> => {
      await program.parseAsync(['run', 'start', '--coordinator', 'http://127.0.0.1:1', ...args], { from: 'user' });
      return seen;
    };
    return { start, parse };
  }

  it('one flag per option, kebab-case of its name, as the flags were named before the registry', () => {
    expect(STRATEGY_OPTION_NAMES.map(flagOf)).toEqual(['--mu', '--server-lr', '--beta1', '--beta2', '--tau', '--trim-beta', '--byzantine', '--krum-keep', '--clip-tau', '--folds', '--exact-algorithm']);
    const { start } = runStart();
    const flags = new Map(start.options.map((o: Option) => [o.long, o]));
    for (const { option, schema } of OPTIONS) {
      const flag = flags.get(flagOf(option));
      expect(flag, option).toBeDefined();
      expect(flag!.attributeName(), option).toBe(option);
      expect(flag!.argChoices ?? null, option).toEqual(choices(schema));
    }
    expect(flags.get('--strategy')!.argChoices).toEqual(STRATEGY_NAMES);
  });

  it('--help shows each option with its strategy, description, bounds and default, and each strategy with its summary', () => {
    const { start } = runStart();
    const help = helpWithText(start);
    for (const { strategy, option, schema } of OPTIONS) {
      const line = help.split('\n').find((l) => l.trimStart().startsWith(flagOf(option) + ' '));
      expect(line, option).toBeDefined();
      expect(line, option).toContain(`${strategy}: ${String(schema.description)}`);
      if (choices(schema) === null) expect(line, option).toContain(boundsText(schema));
      if (schema.default !== undefined) expect(line, option).toContain(`(default ${String(schema.default)})`);
      expect(line).toContain(optionHelp(option));
    }
    for (const d of STRATEGIES) expect(help).toMatch(new RegExp(`^  ${d.name} +${escape(d.summary)}$`, 'm'));
  });

  it('a value just outside a bound is refused by the parser (E_BAD_REQUEST); inside, it reaches the body as a number', async () => {
    for (const { option, schema } of OPTIONS) {
      const values = choices(schema) === null ? probes(schema) : { outside: ['qr'], inside: choices(schema)! };
      for (const x of values.outside) {
        const error = await runStart().parse([`${flagOf(option)}=${x}`]).then(() => null, (e: unknown) => e);
        expect(error, `${option} ${x}`).toBeInstanceOf(CommanderError);
        expect((error as CommanderError).code).toBe('commander.invalidArgument');
        if (choices(schema) === null) expect((error as CommanderError).message, `${option} ${x}`).toContain(`E_BAD_REQUEST: ${flagOf(option)} must be ${boundsText(schema)}`);
      }
      for (const x of values.inside) {
        const parsed = await runStart().parse([`${flagOf(option)}=${x}`]);
        expect(strategyOptionFields(parsed), `${option} ${x}`).toEqual({ [option]: x });
      }
    }
    expect(thrownCode(() => parseOptionValue('mu', ''))).toBe('E_BAD_REQUEST');
    expect(thrownCode(() => parseOptionValue('mu', 'Infinity'))).toBe('E_BAD_REQUEST');
    expect(thrownCode(() => parseOptionValue('serverLr', '0x10'))).toBe('E_BAD_REQUEST'); // 16: out of (0, 10]
  });

  it('the real `fedrx run start --help` lists every strategy flag and strategy; an out-of-bounds value exits 1 with the code', () => {
    const help = spawnSync(process.execPath, [FEDRX_BIN, 'run', 'start', '--help'], { encoding: 'utf8', timeout: 60_000 });
    expect(help.status, help.stderr).toBe(0);
    for (const option of STRATEGY_OPTION_NAMES) expect(help.stdout).toContain(`${flagOf(option)} <`);
    for (const name of STRATEGY_NAMES) expect(help.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    const bad = spawnSync(process.execPath, [FEDRX_BIN, 'run', 'start', '--coordinator', 'http://127.0.0.1:1', '--beta2', '1'], { encoding: 'utf8', timeout: 60_000 });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("option '--beta2 <x>' argument '1' is invalid. E_BAD_REQUEST: --beta2 must be 0 ≤ x < 1");
  });
});

/** The help as `--help` prints it, the text added after the options included. */
function helpWithText(cmd: Command): string {
  let text = '';
  cmd.configureOutput({ writeOut: (str) => (text += str), writeErr: () => {} });
  cmd.outputHelp();
  return text;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
