// The store's side of cancelling runs: a queued run ends at once, a running one carries the request
// until the runner ends it, a finished one is left alone; and the run list counts training rounds.

import { describe, expect, it } from 'vitest';
import { openDb } from '../../../coordinator/store/db.js';
import { Store } from '../../../coordinator/store/store.js';
import { hashConfig } from '../../../shared/ledger.js';
import { hashWeights } from '../../../shared/model-hash.js';
import { RUN_DEFAULTS, type RunConfig } from '../../../coordinator/run-config-schema.js';
import { generateKeyPair } from '../../../shared/signing.js';
import { commitTinyModel } from '../../helpers/tiny-model.js';
import { TINY_STUDY } from '../../helpers/tiny-study.js';

const config: RunConfig = { ...RUN_DEFAULTS, study: TINY_STUDY, rounds: 7 };
const fresh = (): Store => new Store(openDb(':memory:'), generateKeyPair());
const newRun = (store: Store): string => store.createRun(config, hashConfig(config)).id;

describe('Store.cancelRun', () => {
  it('cancels a queued run at once, naming who asked', () => {
    const store = fresh();
    const id = newRun(store);
    expect(store.cancelRun(id, 'data-scientist dr-lee (tok-000000000001)')).toBe('cancelled');
    const run = store.getRun(id)!;
    expect(run).toMatchObject({ status: 'cancelled', stopReason: 'cancelled by data-scientist dr-lee (tok-000000000001) before it started', cancelRequestedBy: 'data-scientist dr-lee (tok-000000000001)', error: null });
    expect(run.endedAt).not.toBeNull();
    expect(store.nextRun()).toBeNull();
    expect(store.cancelRun(id, 'admin ops')).toBe('finished');
  });

  it('asks a running run to stop; the first request stands; the runner ends it as cancelled', () => {
    const store = fresh();
    const id = newRun(store);
    store.markRunning(id);
    expect(store.isCancelRequested(id)).toBe(false);
    expect(store.cancelRun(id, 'admin ops')).toBe('requested');
    expect(store.cancelRun(id, 'data-scientist late')).toBe('requested');
    expect(store.isCancelRequested(id)).toBe(true);
    expect(store.getRun(id)).toMatchObject({ status: 'running', cancelRequestedBy: 'admin ops', endedAt: null });
    store.endCancelledRun(id);
    expect(store.getRun(id)).toMatchObject({ status: 'cancelled', stopReason: 'cancelled by admin ops' });
    // Ended: no longer "asked to stop", and not cancellable again.
    expect(store.isCancelRequested(id)).toBe(false);
    expect(store.cancelRun(id, 'admin ops')).toBe('finished');
  });

  it('leaves completed and failed runs as they are; an unknown id is unknown', () => {
    const store = fresh();
    const done = newRun(store);
    store.endRun(done, 'completed');
    const failed = newRun(store);
    store.endRun(failed, 'failed', 'round 1: no sites');
    expect([store.cancelRun(done, 'x'), store.cancelRun(failed, 'x'), store.cancelRun('run-00000000', 'x')]).toEqual(['finished', 'finished', 'unknown']);
    expect(store.getRun(done)).toMatchObject({ status: 'completed', cancelRequestedAt: null, stopReason: null });
    expect(store.getRun(failed)).toMatchObject({ status: 'failed', error: 'round 1: no sites', cancelRequestedAt: null });
  });
});

describe('Store.listRuns', () => {
  it('lists the newest first with their committed training rounds, round 0 not counted', () => {
    const store = fresh();
    const trained = commitTinyModel(store).runId; // round 1 committed
    const started = newRun(store);
    const weights = [{ name: 'dense0/bias', shape: [1], data: new Float32Array([0]) }];
    store.commitRound({
      runId: started, round: 0, startedAt: new Date().toISOString(), modelHash: hashWeights(weights), weights, metrics: {}, sites: [],
      state: { progress: '{}', strategy: null }, bestRound: null,
      entry: { parentModelHash: null, participants: [], configHash: 'c'.repeat(64) },
    });
    const queued = newRun(store);
    const runs = store.listRuns();
    expect(runs.map((r) => [r.id, r.roundsDone, r.config.rounds])).toEqual([[queued, 0, 7], [started, 0, 7], [trained, 1, 5]]);
    expect(store.listRuns(1).map((r) => r.id)).toEqual([queued]);
  });
});
