// End to end, differential privacy: a real coordinator and three agent processes run DP-FedAvg
// from the command line; one agent's own --max-epsilon makes it refuse every round; each committed
// entry carries the ε spent; `fedrx privacy report` prints exactly what a site's replica recomputes
// from its own copy of the chain; and an admin's budget then refuses the next run at start.

import { afterAll, describe, expect, it } from 'vitest';
import { privacyFromChain, privacyMismatches } from '../../shared/privacy/privacy-from-chain.js';
import { epsilonOf } from '../../shared/privacy/rdp.js';
import { readReplicaDir } from '../../site-agent/replica.js';
import { tempDir } from '../helpers/temp.js';
import { fedrxCommand, startFederation, type Federation } from './harness.js';

let fed: Federation | undefined;
afterAll(async () => {
  await fed?.stop();
});

describe('differential privacy end to end', () => {
  it('records ε on the ledger, reports what a replica recomputes, and enforces the site\'s and the admin\'s budgets', async () => {
    fed = await startFederation(tempDir('e2e-dp'), { sites: 3, patients: 360, extraAgentArgs: { 'site-3': ['--max-epsilon', '1'] } });
    const common = ['--coordinator', fed.url, '--rounds', '2', '--min-sites', '2', '--round-timeout', '60', '--dp-noise-multiplier', '1.2', '--dp-clip', '0.5'];
    const started = await fedrxCommand(['run', 'start', ...common, '--token', fed.tokens['data-scientist'], '--wait']);
    expect(started.code, started.lines.join('\n')).toBe(0);
    const runId = /^run (run-[0-9a-f]{8}) /.exec(started.lines[0]!)![1]!;

    // site-3 (--max-epsilon 1) refused round 1 before training: the 2 rounds left at σ 1.2, q 1,
    // δ 3^-1.1 would cost it ε 1.20; the last round alone costs 0.51, so it took part in that one.
    const delta = 3 ** -1.1;
    const eps = (steps: number): number => epsilonOf([{ q: 1, sigma: 1.2, steps }], delta);
    expect([eps(2), eps(1)].map((e) => e > 1)).toEqual([true, false]);
    const run = await fed.clients['data-scientist'].run(runId);
    const site3 = run.rounds.filter((x) => x.round > 0).map((r) => r.sites.find((s) => s.siteId === 'site-3'));
    expect(site3.map((s) => [s?.status, s?.code ?? null])).toEqual([['rejected', 'E_SITE_MAX_EPSILON'], ['accepted', null]]);
    await fed.agents.get('site-3')!.waitFor(/refused: this run's 2 remaining rounds .* past its --max-epsilon 1/, 5000);

    const chain = (await fed.clients.auditor.ledger()).entries;
    const training = chain.filter((e) => e.round > 0);
    expect(training.map((e) => e.privacy?.runEpsilon.toFixed(3))).toEqual([1, 2].map((steps) => eps(steps).toFixed(3)));
    for (const e of training) expect(e.privacy).toMatchObject({ mechanism: 'gaussian-sum', noiseMultiplier: 1.2, sigma: 1.2, clip: 0.5, samplingRate: 1 });
    const last = Object.fromEntries(training[1]!.privacy!.siteEpsilon.map((x) => [x.siteId, x.epsilon.toFixed(3)]));
    expect(last).toEqual({ 'site-1': eps(2).toFixed(3), 'site-2': eps(2).toFixed(3), 'site-3': eps(1).toFixed(3) });
    expect(await fed.clients.auditor.verifyLedger()).toMatchObject({ ok: true });

    // The report (auditor) equals site-1's own recomputation from its replica.
    let replica = (await readReplicaDir(fed.replicaDir('site-1'))).entries;
    for (let i = 0; i < 50 && replica.length < chain.length; i++) {
      await new Promise((r) => setTimeout(r, 100));
      replica = (await readReplicaDir(fed.replicaDir('site-1'))).entries;
    }
    expect(privacyMismatches(replica)).toEqual([]);
    const fromReplica = privacyFromChain(replica);
    const json = await fedrxCommand(['privacy', 'report', '--coordinator', fed.url, '--token', fed.tokens.auditor, '--json']);
    expect(json.code, json.lines.join('\n')).toBe(0);
    const report = JSON.parse(json.lines.join('\n'));
    expect(report.runs).toEqual(fromReplica.runs);
    expect(report.sites.map(({ budget: _b, remaining: _r, ...s }: Record<string, unknown>) => s)).toEqual(
      ['site-1', 'site-2', 'site-3'].map((id) => fromReplica.sites.find((s) => s.siteId === id) ?? { siteId: id, privateRounds: 0, nonPrivateRounds: 0, delta: null, epsilon: 0 }),
    );
    const table = await fedrxCommand(['privacy', 'report', '--coordinator', fed.url, '--token', fed.tokens.admin]);
    expect(table.lines).toContain('ε per site, across all runs on its data');
    const site1 = table.lines.find((l) => l.startsWith('site-1 '))!.split(/\s{2,}/);
    expect(site1.slice(0, 5)).toEqual(['site-1', '2', '0', (3 ** -1.1).toPrecision(3), fromReplica.runs[0]!.epsilon.toFixed(3)]);

    // An admin's budget of 2 for site-1 (1.20 spent): the same run again (up to 2.44) is refused at start, naming it.
    const budget = await fedrxCommand(['privacy', 'budget', '--coordinator', fed.url, '--token', fed.tokens.admin, '--site', 'site-1', '--epsilon', '2']);
    expect(budget.code, budget.lines.join('\n')).toBe(0);
    const refused = await fedrxCommand(['run', 'start', ...common, '--token', fed.tokens['data-scientist']]);
    expect(refused.code).toBe(1);
    expect(refused.lines.join('\n')).toMatch(/E_BUDGET_EXCEEDED: .*site-1 \(budget 2, spent 1\.202, after this run up to 2\.442\)/);
    expect(refused.lines.join('\n')).not.toMatch(/site-2 \(/);
    expect((await fed.clients['data-scientist'].runs()).runs.length).toBe(1);
  }, 240_000);
});
