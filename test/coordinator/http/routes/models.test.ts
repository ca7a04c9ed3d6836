// GET /v1/models/:modelHash/card on a real app and SQLite file: the card's data from the ledger
// entry, the run and the round; counts and figures only.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../../coordinator/app.js';
import type { Study } from '../../../../shared/study.js';
import { commitLinearModel } from '../../../helpers/tiny-model.js';
import { tempDir } from '../../../helpers/temp.js';
import { TINY_PREP, TINY_STUDY } from '../../../helpers/tiny-study.js';

let c: Coordinator;
const auth = (role: 'clinician' | 'auditor' | 'admin' | 'data-scientist') => ({ authorization: `Bearer ${c.tokens.create(role).token}` });

beforeAll(async () => {
  c = await buildCoordinator({ db: join(tempDir('routes-models'), 'c.sqlite'), log: () => {} });
});

afterAll(async () => {
  await c.close();
});

describe('GET /v1/models/:modelHash/card', () => {
  it('shows the study, the training sites\' row counts, held-out figures overall and per site, the interval\'s calibration and the entry', async () => {
    const study: Study = { ...TINY_STUDY, name: 'card', target: { ...TINY_STUDY.target, unit: 'mg/week' }, features: [{ ...TINY_STUDY.features[0]!, unit: 'years' } as Study['features'][number], TINY_STUDY.features[1]!] };
    const conformal = { kind: 'interval' as const, coverage: 0.9, quantile: 0.42, calibrationRows: 30, sites: 2 };
    const sites = [
      { siteId: 'site-a', status: 'accepted' as const, numExamples: 120, evalExamples: 30, evalLoss: 0.5, evalMetric: 7.5 },
      { siteId: 'site-b', status: 'accepted' as const, numExamples: 80, evalExamples: 20, evalLoss: 0.7, evalMetric: 9 },
    ];
    const m = commitLinearModel(c.store, study, TINY_PREP, [2, 3], [7], { conformal, sites, metrics: { mae: 8.1, evalExamples: 50, calibrationRows: 30 } });
    const res = await c.app.inject({ url: `/v1/models/${m.modelHash}/card`, headers: auth('clinician') });
    expect(res.statusCode).toBe(200);
    const entry = c.store.ledger.get(m.ledgerIndex)!;
    expect(res.json()).toEqual({
      modelHash: m.modelHash,
      runId: m.runId,
      round: 1,
      ledgerIndex: m.ledgerIndex,
      entryHash: entry.entryHash,
      study: {
        name: 'card',
        target: { name: 'y', unit: 'mg/week', kind: 'regression' },
        features: [
          { name: 'x1', kind: 'numeric', unit: 'years', range: [-100, 100] },
          { name: 'g', kind: 'categorical', levels: ['a', 'b'] },
        ],
      },
      sites: [{ siteId: 'site-a', numExamples: 120 }, { siteId: 'site-b', numExamples: 80 }],
      metrics: {
        overall: { mae: 8.1, evalExamples: 50, calibrationRows: 30 },
        perSite: [
          { siteId: 'site-a', evalExamples: 30, evalLoss: 0.5, metric: 'mae', evalMetric: 7.5 },
          { siteId: 'site-b', evalExamples: 20, evalLoss: 0.7, metric: 'mae', evalMetric: 9 },
        ],
      },
      interval: conformal,
    });
    // An auditor may read it too.
    expect((await c.app.inject({ url: `/v1/models/${m.modelHash}/card`, headers: auth('auditor') })).statusCode).toBe(200);
  });

  it('shows held-out figures per level of a groupBy study, small groups flagged, not mixed into the overall figures', async () => {
    const metrics = { mae: 8, 'group.a.n': 40, 'group.a.mae': 7.5, 'group.b.n': 12, 'group.b.mae': 9.9 };
    const m = commitLinearModel(c.store, { ...TINY_STUDY, name: 'card-groups', groupBy: 'g' }, TINY_PREP, [3, 3], [3], { metrics });
    const card = (await c.app.inject({ url: `/v1/models/${m.modelHash}/card`, headers: auth('auditor') })).json();
    expect(card.metrics.overall).toEqual({ mae: 8 });
    expect(card.metrics.perGroup).toEqual({
      column: 'g',
      groups: [
        { level: 'a', n: 40, small: false, metrics: { mae: 7.5 } },
        { level: 'b', n: 12, small: true, metrics: { mae: 9.9 } },
      ],
    });
  });

  it('refuses other roles, an unknown model and a malformed hash with coded errors', async () => {
    const m = commitLinearModel(c.store, { ...TINY_STUDY, name: 'card-2' }, TINY_PREP, [1, 1], [1]);
    for (const role of ['admin', 'data-scientist'] as const) {
      expect((await c.app.inject({ url: `/v1/models/${m.modelHash}/card`, headers: auth(role) })).json().error.code).toBe('E_FORBIDDEN');
    }
    const unknown = await c.app.inject({ url: `/v1/models/${'0'.repeat(64)}/card`, headers: auth('auditor') });
    expect([unknown.statusCode, unknown.json().error.code]).toEqual([404, 'E_NOT_FOUND']);
    const bad = await c.app.inject({ url: '/v1/models/xyz/card', headers: auth('auditor') });
    expect([bad.statusCode, bad.json().error.code]).toEqual([400, 'E_BAD_REQUEST']);
    // No quantile recorded (a model from before intervals): no interval on its card.
    expect((await c.app.inject({ url: `/v1/models/${m.modelHash}/card`, headers: auth('auditor') })).json().interval).toBeUndefined();
  });
});
