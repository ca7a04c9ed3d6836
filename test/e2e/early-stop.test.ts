// End to end: real coordinator and agent processes; a study with a validation part; a run whose
// validation loss stops falling is stopped early, says so on its round line and at the end, and
// clinicians are served its best round, not its last.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnFedrx } from '../../cli/spawn.js';
import type { Study } from '../../shared/study.js';
import { tempDir } from '../helpers/temp.js';
import { startFederation, type Federation } from './harness.js';

const STUDY = fileURLToPath(new URL('../../datasets/studies/synthetic-warfarin.json', import.meta.url));
const PATIENT = { age_years: 58, sex: 'M', height_cm: 180, weight_kg: 90, ancestry: 'White', cyp2c9: '*1/*1', vkorc1_1639: 'G/G', amiodarone: '0', enzyme_inducer: '0' };

let fed: Federation | undefined;
afterAll(async () => {
  await fed?.stop();
});

describe('early stopping end to end', () => {
  it('stops a run whose validation loss rises, says why, and serves its best round', async () => {
    const dir = tempDir('e2e-early');
    fed = await startFederation(dir, { sites: 3, patients: 360 });
    // A wide MLP trained hard on a few rows per site overfits within a few rounds.
    const study: Study = { ...(JSON.parse(readFileSync(STUDY, 'utf8')) as Study), name: 'overfit', model: { type: 'mlp', hidden: [32], activation: 'relu' }, validation: { fraction: 0.3 } };
    const studyFile = join(dir, 'overfit.json');
    writeFileSync(studyFile, JSON.stringify(study));
    const start = spawnFedrx(
      'run-start',
      ['run', 'start', '--coordinator', fed.url, '--study', studyFile, '--rounds', '30', '--min-sites', '3', '--local-epochs', '10', '--lr', '0.05', '--batch-size', '8', '--patience', '2', '--wait'],
      { env: { FEDRX_TOKEN: fed.tokens['data-scientist'] } },
    );
    expect(await start.exited, start.lines.join('\n')).toBe(0);
    const out = start.lines.join('\n');
    const run = await fed.clients['data-scientist'].run(start.lines.map((l) => l.match(/^run (run-[0-9a-f]{8}) queued/)?.[1]).find((x) => x !== undefined)!);
    expect(run.status).toBe('completed');
    const last = run.rounds.at(-1)!;
    expect(last.round).toBeLessThan(30);
    expect(run.bestRound).toBe(last.round - 2);
    expect(run.stopReason).toMatch(new RegExp(`^stopped early after round ${last.round} of 30: validation loss has not improved for 2 rounds \\(best round ${run.bestRound}, validation loss \\d+\\.\\d{4}\\)$`));
    // The best round's validation loss is the lowest, and the two after it are higher.
    const val = run.rounds.slice(1).map((r) => r.metrics.valLoss!);
    expect(Math.min(...val)).toBe(run.rounds[run.bestRound!]!.metrics.valLoss);
    for (const r of run.rounds.slice(run.bestRound! + 1)) expect(r.metrics.valLoss!).toBeGreaterThanOrEqual(run.rounds[run.bestRound!]!.metrics.valLoss!);
    // Every patient is in exactly one part: trained on, validating, or held out; 30% of the
    // training part validates.
    const m = last.metrics;
    expect(m).toMatchObject({ stoppedEarly: 1, bestRound: run.bestRound });
    expect(m.trainExamples! + m.valExamples! + m.evalExamples!).toBe(360);
    expect(Math.abs(m.valExamples! - 0.3 * (m.trainExamples! + m.valExamples!))).toBeLessThanOrEqual(1.5);
    // The CLI says it: the round line of the last round, then why, then which round is served.
    expect(out).toMatch(new RegExp(`round ${last.round}/30 .*STOPPED EARLY: no better validation loss since round ${run.bestRound}`));
    expect(out).toContain(`run ${run.id} ${run.stopReason}`);
    expect(out).toContain(`run ${run.id} completed: serves round ${run.bestRound} (best by validation loss), model ${run.rounds[run.bestRound!]!.modelHash}`);
    expect(fed.coordinator.lines.join('\n')).toContain(`run ${run.id} ${run.stopReason}; serving round ${run.bestRound}`);

    // Clinicians get the best round's model, not the last one.
    const p = await fed.clients.clinician.predict({ runId: run.id, features: PATIENT });
    expect(p).toMatchObject({ round: run.bestRound, modelHash: run.rounds[run.bestRound!]!.modelHash, ledgerIndex: run.rounds[run.bestRound!]!.ledgerIndex });
    expect(p.modelHash).not.toBe(last.modelHash);
    // The ledger records it in signed entries and verifies.
    const chain = await fed.clients.auditor.ledger();
    expect(chain.entries.at(-1)!.metrics).toMatchObject({ bestRound: run.bestRound, stoppedEarly: 1 });
    expect(await fed.clients.auditor.verifyLedger()).toMatchObject({ ok: true, length: last.round + 1 });
  }, 180_000);
});
