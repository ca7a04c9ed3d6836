// Integration: a study with feature groups run by a real coordinator (Fastify + ws on loopback,
// SQLite) and real site agents in this process. Round 0 fixes the expanded input list from the
// sites' statistics; every task builds its inputs from that list; a site whose CSV no longer has
// some listed columns is refused naming exactly those.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../coordinator/app.js';
import type { RunView } from '../../../cli/client/client.js';
import { hashPreprocessing } from '../../../shared/feature-stats.js';
import { createKeyFiles } from '../../../shared/key-files.js';
import type { LedgerEntry } from '../../../shared/ledger.js';
import type { Study } from '../../../shared/study.js';
import { startAgent, type RunningAgent } from '../../../site-agent/agent.js';
import { tempDir } from '../../helpers/temp.js';

process.env.FEDRX_TF_BACKEND ??= 'cpu';

const GENES = 40;
const study: Study = {
  name: 'genes',
  task: 'regression',
  idColumn: 'id',
  features: [{ kind: 'numeric', name: 'age', min: 0, max: 120 }],
  groups: [
    { kind: 'numeric', match: '^g_', missing: 'mean' },
    { kind: 'binary', match: '^m_' },
  ],
  target: { name: 'y', transform: 'identity', min: -1000, max: 1000 },
  model: { type: 'linear' },
  metrics: ['rmse', 'mae', 'r2'],
  holdout: { fraction: 0.2, seed: 1 },
  minRows: 10,
};
const geneNames = Array.from({ length: GENES }, (_, j) => `g_${String(j).padStart(2, '0')}`);

/** 30 rows: age, GENES genes (site-specific shift), g_const = 5, m_0..m_3, y = 2·g_00 − g_01 + noise; `extra` columns only here. */
function siteCsv(seed: number, opts: { extra?: string[]; without?: string[]; text?: string } = {}): string {
  const genes = geneNames.filter((g) => !(opts.without ?? []).includes(g));
  const header = ['id', 'age', 'y', ...genes, 'g_const', ...(opts.extra ?? []), 'm_0', 'm_1', 'm_2', 'm_3'];
  const lines = Array.from({ length: 30 }, (_, i) => {
    const v = (j: number): number => Math.sin(seed * 100 + i * 7.3 + j * 1.7) + seed / 10;
    const cells: Record<string, string> = { id: `S${seed}-${i}`, age: String(30 + ((i * 7) % 50)), g_const: '5' };
    geneNames.forEach((g, j) => (cells[g] = g === opts.text ? `high-${i}` : v(j).toFixed(4)));
    for (const e of opts.extra ?? []) cells[e] = v(99).toFixed(3);
    for (let k = 0; k < 4; k++) cells[`m_${k}`] = (i + k + seed) % 3 === 0 ? '1' : '0';
    cells.y = (2 * v(0) - v(1) + Math.cos(i * 3.1) * 0.1).toFixed(4);
    return header.map((h) => cells[h]).join(',');
  });
  return `${header.join(',')}\n${lines.join('\n')}\n`;
}

let coordinator: Coordinator;
let url: string;
let headers: { authorization: string };
const agents: RunningAgent[] = [];
const dir = tempDir('groups');
const siteLogs: Record<string, string[]> = { 'site-a': [], 'site-b': [], 'site-c': [], 'site-d': [] };
const cFile = join(dir, 'site-c.csv');

async function startSite(siteId: string, csv: string, onLog?: (line: string) => void): Promise<void> {
  const file = join(dir, `${siteId}.csv`);
  writeFileSync(file, csv);
  const keyDir = join(dir, `${siteId}-key`);
  coordinator.store.sites.register(siteId, createKeyFiles(keyDir, 'site').publicKey);
  agents.push(
    await startAgent({
      coordinatorUrl: url,
      siteId,
      dataFile: file,
      keyDir,
      replicaDir: join(dir, `${siteId}-replica`),
      log: (line) => {
        siteLogs[siteId]!.push(line);
        onLog?.(line);
      },
    }),
  );
}

async function finished(runId: string, timeoutMs = 60_000): Promise<RunView> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const run = (await coordinator.app.inject({ headers, method: 'GET', url: `/v1/runs/${runId}` })).json() as RunView;
    if (run.status === 'completed' || run.status === 'failed') return run;
    if (Date.now() > end) throw new Error(`run ${runId} still ${run.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  coordinator = await buildCoordinator({ db: join(dir, 'c.sqlite'), log: () => {} });
  headers = { authorization: `Bearer ${coordinator.tokens.create('data-scientist').token}` };
  url = await coordinator.listen(0);
  await startSite('site-a', siteCsv(1, { extra: ['g_only_a'] }));
  await startSite('site-b', siteCsv(2));
  // Site C reports statistics with every column, then its export loses two genes before training.
  await startSite('site-c', siteCsv(3), (line) => {
    if (line.includes('reported statistics')) writeFileSync(cFile, siteCsv(3, { without: ['g_03', 'g_17'] }));
  });
  // At site D, gene g_05 holds text where the other sites hold numbers.
  await startSite('site-d', siteCsv(4, { text: 'g_05' }));
}, 60_000);

afterAll(async () => {
  for (const a of agents) await a.close();
  await coordinator?.close();
});

describe('a study with feature groups', () => {
  let run: RunView;

  beforeAll(async () => {
    while (coordinator.gateway!.connectedSites().length < 4) await new Promise((r) => setTimeout(r, 50));
    const res = await coordinator.app.inject({ headers, method: 'POST', url: '/v1/runs', payload: { study, rounds: 2, minSites: 2, roundTimeoutSec: 30, batchSize: 64 } });
    expect(res.statusCode).toBe(201);
    run = await finished(res.json().id as string);
  }, 90_000);

  it('round 0 fixes the sorted columns every site has, leaving out one site\'s extra column and the constant one, with reasons', () => {
    expect(run.status).toBe('completed');
    expect(run.preprocessing!.inputs).toEqual({
      groups: [geneNames, ['m_0', 'm_1', 'm_2', 'm_3']],
      dropped: [
        { column: 'g_const', reason: 'constant over all sites' },
        { column: 'g_only_a', reason: 'matched at 1 of 3 sites' },
      ],
    });
    // The stored run config stays the small study as written.
    expect(coordinator.store.getRun(run.id)!.config.study).toEqual(study);
  });

  it('a site where a gene column holds text is refused at round 0, naming the column and lines, never a cell', () => {
    const d = run.rounds[0]!.sites.find((s) => s.siteId === 'site-d')!;
    expect(d).toMatchObject({ status: 'failed', code: 'E_CSV_BAD_VALUE' });
    expect(d.reason).toMatch(/^site CSV site-d\.csv does not fit study genes: column "g_05": 30 rows not a number \(lines 2, 3, 4, 5, 6, …\)/);
    expect(d.reason).not.toContain('high-');
    expect(run.rounds[0]!.sites.filter((s) => s.status === 'accepted').map((s) => s.siteId)).toEqual(['site-a', 'site-b', 'site-c']);
  });

  it('ledger entry 0 carries the hash of the preprocessing that holds the list; the model has one weight per input', async () => {
    const entries = (await coordinator.app.inject({ headers, method: 'GET', url: '/v1/ledger' })).json().entries as LedgerEntry[];
    const genesis = entries.find((e) => e.runId === run.id && e.round === 0)!;
    expect(genesis.preprocessingHash).toBe(hashPreprocessing(run.preprocessing!));
    const model = coordinator.store.getModel(run.rounds.at(-1)!.modelHash!)!;
    expect(model.weights[0]!.shape).toEqual([1 + GENES + 4, 1]);
  });

  it('the site missing two listed columns is refused each round naming exactly those; the others train', () => {
    for (const round of run.rounds.filter((r) => r.round > 0)) {
      const c = round.sites.find((s) => s.siteId === 'site-c')!;
      expect(c).toMatchObject({ status: 'failed', code: 'E_CSV_MISSING_COLUMN' });
      expect(c.reason).toBe('site CSV site-c.csv (30 rows) lacks 2 required columns "g_03", "g_17"');
      expect(round.sites.filter((s) => s.status === 'accepted').map((s) => s.siteId)).toEqual(['site-a', 'site-b']);
      expect(round.sites.find((s) => s.siteId === 'site-d')).toMatchObject({ status: 'failed', code: 'E_CSV_BAD_VALUE' });
    }
  });

  it('a prediction reads the listed columns: columns left out are not needed, a missing input is named', async () => {
    const clinician = { authorization: `Bearer ${coordinator.tokens.create('clinician').token}` };
    const features: Record<string, string> = { age: '50', m_0: '1', m_1: '0', m_2: '0', m_3: '1' };
    for (const g of geneNames) features[g] = '0.5';
    const ok = await coordinator.app.inject({ headers: clinician, method: 'POST', url: '/v1/predict', payload: { runId: run.id, features } });
    expect(ok.statusCode).toBe(200);
    expect(Number.isFinite(ok.json().prediction)).toBe(true);
    const { age: _age, ...lacking } = features;
    const bad = await coordinator.app.inject({ headers: clinician, method: 'POST', url: '/v1/predict', payload: { runId: run.id, features: lacking } });
    expect(bad.json().error).toMatchObject({ code: 'E_MISSING_FEATURE', message: 'column "age": missing' });
  });
});
