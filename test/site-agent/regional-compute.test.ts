// A region's compute against a recording stand-in for its coordinator's relay steps: what it posts
// (the parent's task re-addressed to the relay run, settings verbatim), what it answers, how it
// replaces an ended relay run, and when it vouches for a national entry.

import { describe, expect, it } from 'vitest';
import { emptyStats } from '../../shared/feature-stats.js';
import { signHead, type SignedHead } from '../../shared/ledger-head.js';
import type { LedgerEntry } from '../../shared/ledger.js';
import { hashWeights } from '../../shared/model-hash.js';
import type { TaskConfig } from '../../shared/run-config.js';
import { generateKeyPair } from '../../shared/signing.js';
import { encodeFrame } from '../../shared/tensor-codec.js';
import { decodeTaskFrame, PROTOCOL_VERSION } from '../../shared/wire.js';
import { FedrxError } from '../../shared/errors.js';
import type { Weights } from '../../shared/tensors.js';
import { RegionalCompute, type RelaySteps } from '../../site-agent/regional-compute.js';
import { TINY_PREP, TINY_STUDY } from '../helpers/tiny-study.js';

const KEY = generateKeyPair();
const w = (...v: number[]): Weights => [{ name: 'w', shape: [v.length], data: Float32Array.from(v) }];
const head = (length: number, headHash = 'a'.repeat(64)): SignedHead => signHead({ length, headHash }, KEY);
const CONFIG: TaskConfig = { study: TINY_STUDY, preprocessing: TINY_PREP, training: { localEpochs: 2, lr: 0.1, lrDecay: 0.9, batchSize: 8, optimizer: 'sgd', seed: 3 }, proximalMu: 0 };
const SETTINGS = { ...CONFIG.training, lr: 0.081, seed: 99 }; // what the agent made of it for round 3: not what the region passes on

/** Records every step; `failTrainOnce` makes the first train fail as a failed relay run's would. */
function steps(o: { failTrainOnce?: boolean | 'busy'; endorsement?: Awaited<ReturnType<RelaySteps['endorsement']>>[] } = {}) {
  const calls: string[] = [];
  const frames: Buffer[] = [];
  const ended = new Set<string>();
  let made = 0;
  let failNext = o.failTrainOnce !== undefined && o.failTrainOnce !== false;
  const polls = [...(o.endorsement ?? [])];
  const s: RelaySteps = {
    async createRun(body) {
      calls.push(`create ${JSON.stringify((body as { relay: unknown }).relay)} minSites=${String(body.minSites)}`);
      return { id: `relay-${++made}` };
    },
    status: async (id) => (ended.has(id) ? 'failed' : 'running'),
    async statistics(id) {
      calls.push(`statistics ${id}`);
      return { stats: { ...emptyStats(TINY_STUDY), rows: 17 }, sites: 3, head: head(1) };
    },
    async train(id, frame) {
      calls.push(`train ${id}`);
      frames.push(frame);
      if (failNext) {
        failNext = false;
        if (o.failTrainOnce === 'busy') throw new FedrxError('E_BUSY', 'the coordinator is stopping: the step was dropped, nothing of it committed');
        ended.add(id);
        throw new FedrxError('E_ROUND_FAILED', 'round 3: 1 of the 2 updates needed');
      }
      const agg = w(0.5, -0.25);
      return encodeFrame({ v: PROTOCOL_VERSION, kind: 'relay-update', runId: id, round: 3, modelHash: hashWeights(agg), numExamples: 40, trainLoss: 0.75, sites: 3, head: head(4, 'b'.repeat(64)) }, agg);
    },
    async evaluate(id) {
      calls.push(`evaluate ${id}`);
      return { numExamples: 12, loss: 2.5, sums: { n: 12, absErr: 6, within20: 5, sqErr: 30, sumY: 24, sumY2: 60 }, sites: 3 };
    },
    async end(id) {
      calls.push(`end ${id}`);
      ended.add(id);
    },
    async endorsement() {
      return polls.shift() ?? { entryHash: 'b'.repeat(64), endorsed: false, endorsedBy: 1, required: 2, disputed: false };
    },
  };
  return { s, calls, frames };
}

const region = (s: RelaySteps, vouchWaitMs = 2_000) => new RegionalCompute(s, { run: { minSites: 2, strategy: 'fedavg' }, log: () => {}, vouchWaitMs });
const origin = (runId: string, round: number) => ({ runId, round, config: CONFIG });
const nationalEntry = (round: number, children?: LedgerEntry['children']): LedgerEntry => ({ index: round, round, runId: 'nat', ...(children === undefined ? {} : { children }) }) as LedgerEntry;

describe('RegionalCompute', () => {
  it('answers statistics with its sites\' sum, from a relay run it makes for the parent run', async () => {
    const { s, calls } = steps();
    const got = await region(s).run('stats', { study: TINY_STUDY, origin: { runId: 'nat', round: 0 } });
    expect(got.trainRows).toBe(17);
    expect(got.stats.rows).toBe(17);
    expect(calls).toEqual(['create {"parentRunId":"nat"} minSites=2', 'statistics relay-1']);
  });

  it('passes the parent\'s task on to its relay run unchanged (round, model, settings before the agent\'s decay) and answers with the regional aggregate and chain head', async () => {
    const { s, calls, frames } = steps();
    const r = region(s);
    await r.run('stats', { study: TINY_STUDY, origin: { runId: 'nat', round: 0 } });
    const global = w(1, 2);
    const got = await r.run('train', { study: TINY_STUDY, prep: TINY_PREP, global, settings: SETTINGS, proximalMu: 0, origin: origin('nat', 3) });
    const sent = decodeTaskFrame(frames[0]!);
    expect(sent.header).toMatchObject({ kind: 'train', runId: 'relay-1', round: 3, modelHash: hashWeights(global), config: CONFIG });
    expect([...sent.weights[0]!.data]).toEqual([1, 2]);
    expect([...got.weights[0]!.data]).toEqual([0.5, -0.25]);
    expect(got).toMatchObject({ numExamples: 40, trainLoss: 0.75, childHead: { length: 4, headHash: 'b'.repeat(64) } });
    expect(calls.slice(2)).toEqual(['train relay-1']);
  });

  it('replaces a relay run that ended (a failed regional round) once, and ends the relay runs of an earlier parent run', async () => {
    const { s, calls } = steps({ failTrainOnce: true });
    const r = region(s);
    await r.run('stats', { study: TINY_STUDY, origin: { runId: 'old', round: 0 } });
    await r.run('train', { study: TINY_STUDY, prep: TINY_PREP, global: w(1, 2), settings: SETTINGS, proximalMu: 0, origin: origin('nat', 3) });
    expect(calls).toEqual([
      'create {"parentRunId":"old"} minSites=2',
      'statistics relay-1',
      'end relay-1',
      'create {"parentRunId":"nat"} minSites=2',
      'train relay-2',
      'create {"parentRunId":"nat"} minSites=2',
      'train relay-3',
    ]);
    await r.close();
    expect(calls.at(-1)).toBe('end relay-3');
  });

  it('posts a step again while its coordinator restarts (E_BUSY): the same relay run takes it', async () => {
    const { s, calls } = steps({ failTrainOnce: 'busy' });
    const got = await region(s).run('train', { study: TINY_STUDY, prep: TINY_PREP, global: w(1, 2), settings: SETTINGS, proximalMu: 0, origin: origin('nat', 3) });
    expect(got.numExamples).toBe(40);
    expect(calls).toEqual(['create {"parentRunId":"nat"} minSites=2', 'train relay-1', 'train relay-1']);
  });

  it('refuses a national task whose update would not stay its regional aggregate: masked, noised or compressed (E_RELAY_SETTINGS), before any relay step', async () => {
    const { s, calls } = steps();
    const r = region(s);
    const train = (origin: object) => r.run('train', { study: TINY_STUDY, prep: TINY_PREP, global: w(1, 2), settings: SETTINGS, proximalMu: 0, origin: { runId: 'nat', round: 3, config: CONFIG, ...origin } });
    await expect(train({ protectedAs: 'secure' })).rejects.toMatchObject({ code: 'E_RELAY_SETTINGS', message: expect.stringMatching(/a masked update cannot keep that link/) });
    await expect(train({ protectedAs: 'dp' })).rejects.toMatchObject({ code: 'E_RELAY_SETTINGS' });
    await expect(train({ config: { ...CONFIG, compression: { codec: 'float16' } } })).rejects.toMatchObject({ code: 'E_RELAY_SETTINGS' });
    expect(calls).toEqual([]);
  });

  it('answers evaluation with the region\'s pooled figures, and refuses exact fits', async () => {
    const { s } = steps();
    const got = await region(s).run('evaluate', { study: TINY_STUDY, prep: TINY_PREP, global: w(1, 2), origin: origin('nat', 3) });
    expect(got.score).toMatchObject({ numExamples: 12, loss: 2.5 });
    expect(got.validation).toBeNull();
    await expect(region(s).run('exactOpen', { study: TINY_STUDY, prep: TINY_PREP, mode: 'products' })).rejects.toMatchObject({ code: 'E_RELAY_SETTINGS' });
  });

  it('vouches for a national entry once its sites endorsed the regional entry it names; disputes a wrong or disputed one; holds when the quorum does not come', async () => {
    const child = (h: SignedHead) => [{ siteId: 'region-1', head: h }];
    const notYet = { entryHash: 'b'.repeat(64), endorsed: false, endorsedBy: 1, required: 2, disputed: false };
    const endorsed = { ...notYet, endorsed: true, endorsedBy: 2 };
    const { s } = steps({ endorsement: [notYet, endorsed] });
    expect(await region(s).vouch(nationalEntry(2, child(head(4, 'b'.repeat(64)))), 'region-1')).toEqual({ verdict: 'endorse' });
    expect(await region(steps().s).vouch(nationalEntry(0), 'region-1')).toEqual({ verdict: 'endorse' });
    expect((await region(steps().s).vouch(nationalEntry(2), 'region-1')).verdict).toBe('dispute');
    const other = await region(steps().s).vouch(nationalEntry(2, child(head(4, 'c'.repeat(64)))), 'region-1');
    expect(other).toMatchObject({ verdict: 'dispute', why: expect.stringMatching(/names regional entry 3 as cccccccccccc; the regional chain holds bbbbbbbbbbbb/) });
    const disputed = await region(steps({ endorsement: [{ ...notYet, disputed: true }] }).s).vouch(nationalEntry(2, child(head(4, 'b'.repeat(64)))), 'region-1');
    expect(disputed.verdict).toBe('dispute');
    const held = await region(steps().s, 0).vouch(nationalEntry(2, child(head(4, 'b'.repeat(64)))), 'region-1');
    expect(held).toEqual({ verdict: 'hold', why: "the region's sites endorsed regional entry 3 1 times of the 2 needed" });
  });
});
