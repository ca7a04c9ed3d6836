import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCoordinator } from '../../../coordinator/app.js';
import { openDb } from '../../../coordinator/store/db.js';
import { Store } from '../../../coordinator/store/store.js';
import { resumeState } from '../../../coordinator/rounds/run-state.js';
import { hashConfig } from '../../../shared/ledger.js';
import { hashWeights } from '../../../shared/model-hash.js';
import { RUN_DEFAULTS, type RunConfig } from '../../../coordinator/run-config-schema.js';
import { generateKeyPair } from '../../../shared/signing.js';
import type { NamedTensor64, Weights } from '../../../shared/tensors.js';
import { thrownCode } from '../../helpers/error-code.js';
import { tempDir } from '../../helpers/temp.js';
import { TINY_PREP, TINY_STUDY } from '../../helpers/tiny-study.js';

const weights: Weights = [
  { name: 'dense0/kernel', shape: [2, 1], data: new Float32Array([2, 3]) },
  { name: 'dense0/bias', shape: [1], data: new Float32Array([1]) },
];
// Float64, as FedAdam keeps them: 0.1 has no float32 form, so a float32 frame would not give it back.
const moments: NamedTensor64[] = [{ name: 'm/dense0/bias', shape: [1], data: new Float64Array([0.1]) }];

/** A run with rounds 0 and 1 committed (state saved with each), left running as by a killed coordinator. */
/** `withState`: round 1 saves strategy tensors (read back by resumeState; a fedavg run would refuse them). */
function interruptedRun(store: Store, withState = true): string {
  const config: RunConfig = { ...RUN_DEFAULTS, study: TINY_STUDY };
  const run = store.createRun(config, hashConfig(config));
  store.markRunning(run.id);
  for (const round of [0, 1]) {
    const w: Weights = weights.map((t) => ({ ...t, data: t.data.map((x) => x + round) }));
    store.commitRound({
      runId: run.id, round, startedAt: new Date().toISOString(), modelHash: hashWeights(w), weights: w, metrics: {}, sites: [],
      entry: { parentModelHash: null, participants: [], configHash: run.configHash },
      state: { progress: JSON.stringify({ best: { bestRound: round, bestLoss: 0.5, sinceBest: 0 } }), strategy: round === 0 || !withState ? null : moments },
      bestRound: round === 0 ? null : 1,
      ...(round === 0 ? { preprocessing: TINY_PREP } : {}),
    });
  }
  return run.id;
}

describe('resumeState', () => {
  it('is null for a run that committed nothing, and the last committed round with its model, progress and strategy state otherwise', () => {
    const store = new Store(openDb(':memory:'), generateKeyPair());
    const config: RunConfig = { ...RUN_DEFAULTS, study: TINY_STUDY };
    expect(resumeState(store, store.createRun(config, hashConfig(config)))).toBeNull();
    const runId = interruptedRun(store);
    const state = resumeState(store, store.getRun(runId)!)!;
    expect(state.round).toBe(1);
    expect([...state.weights[0]!.data]).toEqual([3, 4]);
    expect(state.modelHash).toBe(hashWeights(state.weights));
    expect(state.progress.best).toEqual({ bestRound: 1, bestLoss: 0.5, sinceBest: 0 });
    expect(state.prep).toEqual(TINY_PREP);
    expect(state.strategy!.map((t) => [t.name, [...t.data]])).toEqual([['m/dense0/bias', [0.1]]]);
    expect(store.interruptedRuns().map((r) => r.id)).toEqual([runId]);
    expect(store.nextRun()?.id).toBe(runId);
  });

  it('refuses with E_RUN_NOT_RESUMABLE, naming what is missing, when the saved state does not hold together', () => {
    const store = new Store(openDb(':memory:'), generateKeyPair());
    const noModel = interruptedRun(store);
    store.db.prepare('DELETE FROM models WHERE run_id = ? AND round = 1').run(noModel);
    expect(() => resumeState(store, store.getRun(noModel)!)).toThrow(/the model of round 1 is missing/);
    expect(thrownCode(() => resumeState(store, store.getRun(noModel)!))).toBe('E_RUN_NOT_RESUMABLE');
    const noPrep = interruptedRun(store);
    store.db.prepare('UPDATE runs SET preprocessing_json = NULL WHERE id = ?').run(noPrep);
    expect(() => resumeState(store, store.getRun(noPrep)!)).toThrow(/preprocessing \(round 0\) is missing/);
    const badConfig = interruptedRun(store);
    store.db.prepare(`UPDATE runs SET config_json = json_set(config_json, '$.rounds', -1) WHERE id = ?`).run(badConfig);
    expect(() => resumeState(store, store.getRun(badConfig)!)).toThrow(/configuration is not valid/);
  });

  it('a coordinator started on a run that cannot continue marks it failed with the reason, never silently', async () => {
    const file = join(tempDir('resume'), 'c.sqlite');
    const first = await buildCoordinator({ db: file, log: () => {} });
    const runId = interruptedRun(first.store);
    first.store.db.prepare('DELETE FROM models WHERE run_id = ? AND round = 1').run(runId);
    await first.close();
    const logs: string[] = [];
    const c = await buildCoordinator({ db: file, log: (l) => logs.push(l) });
    try {
      expect(logs.join('\n')).toMatch(new RegExp(`run ${runId} was interrupted by the last shutdown: it resumes`));
      await c.listen(0);
      for (let i = 0; i < 100 && c.store.getRun(runId)!.status === 'running'; i++) await new Promise((r) => setTimeout(r, 20));
      expect(c.store.getRun(runId)).toMatchObject({ status: 'failed', error: expect.stringMatching(/^E_RUN_NOT_RESUMABLE: .*the model of round 1 is missing/) });
    } finally {
      await c.close();
    }
  });

  it('a run asked to stop before the coordinator was killed ends cancelled at the next start, no round redone', async () => {
    const file = join(tempDir('resume'), 'c.sqlite');
    const first = await buildCoordinator({ db: file, log: () => {} });
    const runId = interruptedRun(first.store, false);
    expect(first.store.cancelRun(runId, 'admin ops')).toBe('requested');
    await first.close();
    const c = await buildCoordinator({ db: file, log: () => {} });
    try {
      await c.listen(0);
      for (let i = 0; i < 100 && c.store.getRun(runId)!.status === 'running'; i++) await new Promise((r) => setTimeout(r, 20));
      expect(c.store.getRun(runId)).toMatchObject({ status: 'cancelled', stopReason: 'cancelled by admin ops', error: null });
      expect(c.store.rounds(runId).map((r) => [r.round, r.status])).toEqual([[0, 'committed'], [1, 'committed']]);
      expect(c.store.ledger.head().length).toBe(2);
    } finally {
      await c.close();
    }
  });
});
