// End to end on the real IWPC cohort (reduced form): 22 agent processes, one per project site,
// against a real coordinator; the federated model is scored on each site's held-out patients.
// Skips with a message where ../shared/datasets/iwpc/iwpc.csv is absent.

import { afterAll, describe, expect, it } from 'vitest';
import { runFederated, startIwpcFederation } from '../../bench/iwpc-federated.js';
import { scoreMethod, smallestSites } from '../../bench/iwpc-scoring.js';
import type { LocalFederation } from '../../cli/local-federation.js';
import { IWPC_COL, IWPC_CSV, iwpcAvailable, iwpcTestSplit, loadIwpc } from '../../datasets/iwpc.js';
import { loadStudyFile } from '../../shared/load-study.js';
import { tempDir } from '../helpers/temp.js';

const available = iwpcAvailable();
if (!available) console.log(`IWPC test skipped: ${IWPC_CSV} is absent`);

let fed: LocalFederation | undefined;
afterAll(async () => {
  await fed?.stop();
});

describe.skipIf(!available)('IWPC warfarin federation (reduced)', () => {
  it('22 sites learn a dose model with MAE < 9.5 mg/week and PW20 > 40% on their held-out patients', { timeout: 300_000 }, async () => {
    const records = await loadIwpc();
    const split = iwpcTestSplit(records);
    fed = await startIwpcFederation(tempDir('iwpc'), records);
    const study = loadStudyFile(new URL('../../datasets/studies/warfarin-iwpc.json', import.meta.url).pathname);
    const result = await runFederated(
      fed,
      { label: 'FedAvg linear', study, strategy: 'fedavg', rounds: 8, localEpochs: 2, lr: 0.05, lrDecay: 0.85, optimizer: 'adam', batchSize: 32 },
      split.test,
    );
    expect(result.run.rounds.at(-1)!.metrics.sites).toBe(22);
    const score = scoreMethod('federated', split, smallestSites(split), (r) => result.predictions.get(r[IWPC_COL.subject]!)!);
    expect(score.all.n).toBe(1200);
    expect(score.all.mae).toBeLessThan(9.5);
    expect(score.all.pw20).toBeGreaterThan(40);
    // The sites' own evaluation (sums over their held-out rows) scores exactly the same patients.
    const last = result.run.rounds.at(-1)!.metrics;
    expect(last.evalExamples).toBe(1200);
    expect(last.mae!).toBeCloseTo(score.all.mae, 6);
    expect(last.pw20!).toBeCloseTo(score.all.pw20, 6);
  });
});
