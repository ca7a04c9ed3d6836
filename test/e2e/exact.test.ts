// End to end: real agent processes send factored sufficient statistics, the coordinator chooses
// the L2 penalty from a grid by 5-fold federated validation, fits the exact ridge model, evaluates
// it at the sites and commits it; the ledger entry records grid, scores and choice, verifies, and
// reaches every site's replica.

import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrame } from '../../shared/tensor-codec.js';
import { penaltyFromMetrics } from '../../coordinator/rounds/exact/exact-result.js';
import { resolveStudy } from '../../coordinator/http/run-config.js';
import { readReplicaDir } from '../../site-agent/replica.js';
import { tempDir } from '../helpers/temp.js';
import { startFederation, type Federation } from './harness.js';

let fed: Federation;
beforeAll(async () => {
  fed = await startFederation(tempDir('e2e-exact'), { sites: 3 });
}, 180_000);
afterAll(async () => {
  await fed?.stop();
});

describe('exact ridge run end to end', () => {
  it('chooses the penalty from a grid by federated validation and records the search in the ledger', async () => {
    const grid = [0.0001, 0.01, 0.1, 1, 10];
    // A grid and no strategy: the run is an exact fit.
    const study = { ...resolveStudy('synthetic-warfarin'), model: { type: 'linear' as const } };
    const started = await fed.clients['data-scientist'].startRun({ study, l2: grid, minSites: 3, roundTimeoutSec: 60 });
    expect(started.config.strategy).toBe('exact');
    const run = await fed.clients['data-scientist'].follow(started.id, () => {});
    expect(run.status, run.error ?? '').toBe('completed');
    const committed = run.rounds.filter((r) => r.status === 'committed');
    expect(committed.map((r) => r.round)).toEqual([0, 1]);
    const fit = committed[1]!;
    expect(fit.sites.map((s) => s.status)).toEqual(['accepted', 'accepted', 'accepted']);

    const chain = await fed.clients.auditor.ledger();
    expect(chain.entries).toHaveLength(2);
    const entry = chain.entries[1]!;
    const penalty = penaltyFromMetrics(entry.metrics)!;
    expect(penalty.grid).toEqual(grid);
    expect(penalty.folds).toBe(5);
    expect(penalty.cvLoss).toHaveLength(grid.length);
    expect(penalty.cvLoss.every((x) => Number.isFinite(x) && x > 0)).toBe(true);
    expect(penalty.l2).toBe(grid[penalty.cvLoss.indexOf(Math.min(...penalty.cvLoss))]);
    expect(penaltyFromMetrics(fit.metrics)).toEqual(penalty);
    // Metrics from the usual evaluation at the sites; participants signed their statistics' hash.
    expect(entry.metrics.evalExamples).toBeGreaterThan(100);
    expect(entry.metrics.evalLoss).toBeLessThan(0.8);
    expect(entry.parentModelHash).toBe(chain.entries[0]!.modelHash);
    expect(entry.participants.map((p) => p.siteId)).toEqual(['site-1', 'site-2', 'site-3']);
    expect(await fed.clients.auditor.verifyLedger()).toMatchObject({ ok: true, length: 2 });

    for (const s of fed.sites) {
      let replica = (await readReplicaDir(fed.replicaDir(s.siteId))).entries;
      for (let i = 0; i < 50 && replica.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 100));
        replica = (await readReplicaDir(fed.replicaDir(s.siteId))).entries;
      }
      expect(replica).toEqual(chain.entries);
    }
    const p = await fed.clients.clinician.predict({
      features: { age_years: 58, sex: 'M', height_cm: 180, weight_kg: 90, ancestry: 'White', cyp2c9: '*1/*1', vkorc1_1639: 'G/G', amiodarone: '0', enzyme_inducer: '0' },
    });
    expect(p.modelHash).toBe(entry.modelHash);
    expect(Number(p.prediction)).toBeGreaterThan(15);
    expect(Number(p.prediction)).toBeLessThan(90);
  }, 180_000);

  it('wide-data ridge by conjugate gradient over the sites gives the coefficients of the factored fit', async () => {
    const study = { ...resolveStudy('synthetic-warfarin'), model: { type: 'linear' as const } };
    const client = fed.clients['data-scientist'];
    const kernels: number[][] = [];
    for (const exactAlgorithm of ['factors', 'products'] as const) {
      const started = await client.startRun({ study, strategy: 'exact', l2: 0.05, exactAlgorithm, minSites: 3, roundTimeoutSec: 60 });
      const run = await client.follow(started.id, () => {});
      expect(run.status, run.error ?? '').toBe('completed');
      const fit = run.rounds.find((r) => r.round === 1)!;
      const db = new Database(fed.db, { readonly: true });
      const frame = (db.prepare('SELECT frame FROM models WHERE hash = ?').get(fit.modelHash) as { frame: Buffer }).frame;
      db.close();
      kernels.push([...decodeFrame(frame).weights.flatMap((w) => [...w.data])]);
    }
    const scale = Math.max(...kernels[0]!.map(Math.abs));
    kernels[0]!.forEach((w, i) => expect(Math.abs(kernels[1]![i]! - w) / scale).toBeLessThan(1e-6));
    expect(fed.coordinator.lines.some((l) => /conjugate gradient converged in \d+ iterations/.test(l))).toBe(true);
    expect(await fed.clients.auditor.verifyLedger()).toMatchObject({ ok: true });
  }, 180_000);

  it('fits binary logistic regression by Newton steps, every answer signed over its transcript', async () => {
    const base = resolveStudy('synthetic-warfarin');
    const study = {
      ...base,
      name: 'synthetic-sex',
      task: 'classification' as const,
      features: [...base.features.filter((f) => f.name !== 'sex'), { kind: 'numeric' as const, name: 'weekly_dose_mg', min: 1, max: 400 }],
      target: { name: 'sex', classes: ['F', 'M'] },
      model: { type: 'linear' as const },
      metrics: ['accuracy' as const],
    };
    const started = await fed.clients['data-scientist'].startRun({ study, strategy: 'exact', l2: 0.01, minSites: 3, roundTimeoutSec: 60 });
    const run = await fed.clients['data-scientist'].follow(started.id, () => {});
    expect(run.status, run.error ?? '').toBe('completed');
    const fit = run.rounds.find((r) => r.round === 1)!;
    expect(fit.status).toBe('committed');
    expect(fit.metrics.l2).toBe(0.01);
    // Height and weight tell the sexes apart in the synthetic cohorts.
    expect(fit.metrics.accuracy).toBeGreaterThan(0.7);
    const steps = fed.coordinator.lines.filter((l) => l.includes(`run ${run.id} exact fit: Newton step`));
    expect(steps.length).toBeGreaterThanOrEqual(3);
    expect(steps.length).toBeLessThanOrEqual(30);
    const chain = await fed.clients.auditor.ledger();
    expect(chain.entries.at(-1)!.participants).toHaveLength(3);
    expect(await fed.clients.auditor.verifyLedger()).toMatchObject({ ok: true, length: chain.entries.length });
  }, 180_000);
});
