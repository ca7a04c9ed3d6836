// A regional agent's compute: where a hospital's agent trains on its rows, a region answers its
// parent's tasks with its own sites (docs/scale.md). Each parent run is mirrored by one relay run
// on the regional coordinator, driven step by step through its REST API: statistics → the sum of
// the region's sites' statistics; train → one regional round from the parent's model, answered with
// the regional aggregate and the regional chain's signed head; evaluate → the region's summed
// evaluation. The agent around it (connection, keys, replica, endorsements) is a hospital's.

import { FedrxError, isFedrxError } from '../shared/errors.js';
import type { FeatureStats } from '../shared/feature-stats.js';
import type { LedgerEntry } from '../shared/ledger.js';
import type { SignedHead } from '../shared/ledger-head.js';
import { hashWeights } from '../shared/model-hash.js';
import { decodeRelayUpdate, type RelayEvaluation } from '../shared/relay-wire.js';
import type { TaskConfig } from '../shared/run-config.js';
import { encodeFrame } from '../shared/tensor-codec.js';
import type { Weights } from '../shared/tensors.js';
import { PROTOCOL_VERSION } from '../shared/wire.js';
import type { ComputeKind, ComputeResults, ComputeTasks, SiteCompute, TaskOrigin } from './compute-tasks.js';
import type { Vouch } from './endorser.js';

/** The regional coordinator's relay steps (its REST API; cli/client/client.ts). */
export interface RelaySteps {
  /** POST /v1/runs: a relay run; its id. */
  createRun(body: Record<string, unknown>): Promise<{ id: string }>;
  /** The run's status ('queued', 'running', 'completed', …). */
  status(runId: string): Promise<string>;
  statistics(runId: string): Promise<{ stats: FeatureStats; sites: number; head: SignedHead }>;
  /** A task frame in, the relay-update frame out. */
  train(runId: string, taskFrame: Buffer): Promise<Buffer>;
  evaluate(runId: string, taskFrame: Buffer): Promise<RelayEvaluation>;
  end(runId: string): Promise<void>;
  /** The regional chain's entry `index`: its hash, and whether the region's sites endorsed it (their quorum) or disputed it. */
  endorsement(index: number): Promise<{ entryHash: string; endorsed: boolean; endorsedBy: number; required: number; disputed: boolean }>;
}

export interface RegionOptions {
  /** The relay runs' own settings (strategy, minSites, timeouts, simulation mark): POST /v1/runs fields but study and relay. */
  run: Record<string, unknown>;
  log: (line: string) => void;
  /** How long a national entry's endorsement waits for the region's sites to endorse the regional round (default 120 s). */
  vouchWaitMs?: number;
}

/** A regional coordinator that restarts is back within a minute. */
const RETRIES = 30;
const RETRY_MS = 2_000;

type Handlers = { [K in ComputeKind]: (input: ComputeTasks[K]) => Promise<ComputeResults[K]> };

export class RegionalCompute implements SiteCompute {
  /** Parent run id → the relay run mirroring it here. */
  private readonly relays = new Map<string, string>();
  private readonly handlers: Handlers;

  constructor(
    private readonly steps: RelaySteps,
    private readonly o: RegionOptions,
  ) {
    const notHere = (kind: string) => (): Promise<never> =>
      Promise.reject(new FedrxError('E_RELAY_SETTINGS', `a region does not answer ${kind} requests: an exact fit runs on one level, among the hospitals of one coordinator`));
    this.handlers = {
      stats: (input) => this.statistics(input),
      train: (input) => this.train(input),
      evaluate: (input) => this.evaluate(input),
      exactStats: notHere('exact-fit'),
      exactOpen: notHere('exact-fit'),
      exactStep: notHere('exact-fit'),
    };
  }

  backend(): Promise<string> {
    return Promise.resolve('region'); // named in the hello: a region, not a tfjs backend
  }

  run<K extends ComputeKind>(kind: K, input: ComputeTasks[K]): Promise<ComputeResults[K]> {
    return (this.handlers[kind] as (input: ComputeTasks[K]) => Promise<ComputeResults[K]>)(input);
  }

  /** Ends the relay runs: the regional coordinator is free for other runs. */
  async close(): Promise<void> {
    const open = [...this.relays.values()];
    this.relays.clear();
    await Promise.allSettled(open.map((id) => this.steps.end(id)));
  }

  /**
   * Endorsements flow up: this region endorses a national training entry only once its own sites
   * endorsed the regional entry it names (the `children` head), so a region's endorsement means
   * "my coordinator signed it and my sites vouched for the round it sums up". Disputed below, disputed above.
   */
  async vouch(entry: LedgerEntry, siteId: string): Promise<Vouch> {
    if (entry.round === 0) return { verdict: 'endorse' }; // statistics: the entry names no regional head (its own checks passed)
    const child = entry.children?.find((c) => c.siteId === siteId);
    if (child === undefined) return { verdict: 'dispute', why: `entry ${entry.index} lists ${siteId}'s update without the regional chain head it was sent with` };
    const index = child.head.length - 1;
    const until = Date.now() + (this.o.vouchWaitMs ?? 120_000);
    for (;;) {
      const s = await this.steps.endorsement(index);
      if (s.entryHash !== child.head.headHash) return { verdict: 'dispute', why: `entry ${entry.index} names regional entry ${index} as ${child.head.headHash.slice(0, 12)}; the regional chain holds ${s.entryHash.slice(0, 12)}` };
      if (s.disputed) return { verdict: 'dispute', why: `the region's sites dispute regional entry ${index}, which entry ${entry.index} sums up` };
      if (s.endorsed) return { verdict: 'endorse' };
      if (Date.now() >= until) return { verdict: 'hold', why: `the region's sites endorsed regional entry ${index} ${s.endorsedBy} times of the ${s.required} needed` };
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  private async statistics({ study, origin }: ComputeTasks['stats']): Promise<ComputeResults['stats']> {
    const { runId } = needOrigin(origin);
    const { stats, sites } = await this.step(runId, { study }, (relay) => this.steps.statistics(relay));
    this.o.log(`run ${runId}: the region's ${sites} sites reported statistics of ${stats.rows} rows`);
    return { stats, trainRows: stats.rows };
  }

  private async train({ global, origin }: ComputeTasks['train']): Promise<ComputeResults['train']> {
    const { runId, round, config, protectedAs } = needConfig(origin);
    const changed = config.compression !== undefined ? 'compressed' : protectedAs === 'secure' ? 'masked' : protectedAs === 'dp' ? 'clipped and noised' : null;
    if (changed !== null) {
      // The national entry would then commit to no regional chain, or to one whose aggregate is not the update it lists.
      throw new FedrxError('E_RELAY_SETTINGS', `a region answers with its regional aggregate and the chain head that commits to it; a ${changed} update cannot keep that link, so secure aggregation, DP and compression are not offered among regions`);
    }
    const reply = await this.step(runId, runFields(config), (relay) => this.steps.train(relay, taskFrame('train', relay, round, config, global)));
    const { header, weights } = decodeRelayUpdate(reply); // attacker-controlled: checked, its weights against its hash
    this.o.log(`run ${runId} round ${round}: regional round over ${header.sites} sites, ${header.numExamples} examples; regional ledger head ${header.head.length} (${header.head.headHash.slice(0, 12)})`);
    return { weights, trainLoss: header.trainLoss, numExamples: header.numExamples, childHead: header.head };
  }

  private async evaluate({ global, origin }: ComputeTasks['evaluate']): Promise<ComputeResults['evaluate']> {
    const { runId, round, config } = needConfig(origin);
    const e = await this.step(runId, runFields(config), (relay) => this.steps.evaluate(relay, taskFrame('evaluate', relay, round, config, global)));
    return {
      score: { loss: e.loss, sums: e.sums, numExamples: e.numExamples, ...(e.groups === undefined ? {} : { groups: e.groups }) },
      validation: e.validation ?? null,
      calibration: e.calibration ?? null,
    };
  }

  /**
   * Runs a step on the relay run mirroring `parentRunId`, made first when there is none. A relay
   * run that ended (a failed regional round fails it, as any run) is replaced once by a new one.
   */
  private async step<T>(parentRunId: string, fields: Record<string, unknown>, fn: (relayRunId: string) => Promise<T>): Promise<T> {
    const relay = await this.relayFor(parentRunId, fields);
    try {
      return await this.patiently(() => fn(relay));
    } catch (e) {
      if (!isFedrxError(e) || (await this.steps.status(relay).catch(() => 'unknown')) === 'running') throw e;
      this.relays.delete(parentRunId);
      this.o.log(`relay run ${relay} has ended (${e.code}); a new relay run takes the next step`);
      return this.patiently(async () => fn(await this.relayFor(parentRunId, fields)));
    }
  }

  /**
   * Posts a step again while the regional coordinator is stopping or restarting (E_BUSY, or not
   * reachable): it dropped the step uncommitted, and its relay run waits for it again once back.
   */
  private async patiently<T>(post: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await post();
      } catch (e) {
        const away = isFedrxError(e) && (e.code === 'E_BUSY' || (e.code === 'E_INTERNAL' && e.message.startsWith('cannot reach')));
        if (!away || attempt >= RETRIES) throw e;
        this.o.log(`the regional coordinator is away (${e.code}); step posted again in ${RETRY_MS / 1000} s (${attempt}/${RETRIES - 1})`);
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  private async relayFor(parentRunId: string, fields: Record<string, unknown>): Promise<string> {
    const known = this.relays.get(parentRunId);
    if (known !== undefined) return known;
    // One parent run at a time: a new one means the others are over, so are their relay runs.
    for (const [parent, id] of this.relays) {
      this.relays.delete(parent);
      await this.steps.end(id).catch(() => {});
    }
    // Its rounds are the parent's: it never stops early by itself (patience 0).
    const { id } = await this.steps.createRun({ patience: 0, ...this.o.run, ...fields, relay: { parentRunId } });
    this.relays.set(parentRunId, id);
    this.o.log(`relay run ${id} mirrors run ${parentRunId} on the regional coordinator`);
    return id;
  }
}

function needOrigin(origin: TaskOrigin | undefined): TaskOrigin {
  if (origin === undefined) throw new FedrxError('E_INTERNAL', 'a region needs the task it answers (its run and round)');
  return origin;
}

function needConfig(origin: TaskOrigin | undefined): TaskOrigin & { config: TaskConfig } {
  const o = needOrigin(origin);
  if (o.config === undefined) throw new FedrxError('E_INTERNAL', 'a region needs the task\'s configuration to pass it on');
  return { ...o, config: o.config };
}

/** A relay run made at a train or evaluate step (none was made at statistics): the parent's study and settings. */
const runFields = (config: TaskConfig): Record<string, unknown> => ({ study: config.study });

/** The parent's task, re-addressed to the relay run: the same round, model and configuration. */
function taskFrame(kind: 'train' | 'evaluate', relayRunId: string, round: number, config: TaskConfig, global: Weights): Buffer {
  return encodeFrame({ v: PROTOCOL_VERSION, kind, runId: relayRunId, round, modelHash: hashWeights(global), config }, global);
}
