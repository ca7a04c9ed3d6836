// Driving a run of TINY_STUDY on a real coordinator with protocol-level test peers: a peer that
// answers the statistics request as a two-row site would, a scripted evaluation answer, and a
// wait for the run to end.

import type { Coordinator } from '../../coordinator/app.js';
import type { RunView } from '../../cli/client/client.js';
import { signedStatsReport, TestPeer, type TestSite } from './test-peer.js';

/** Admits `site` and answers the run's statistics request with two rows of TINY_STUDY. */
export async function admitTinySite(url: string, site: TestSite): Promise<TestPeer> {
  const peer = await TestPeer.admit(url, site);
  void peer.until((r) => r.json.find((m) => m.type === 'stats-request')).then((req) => {
    const stats = { rows: 2, numeric: { x1: { count: 2, sum: 3, sumSq: 5 } }, levels: { g: [1, 1] }, target: { count: 2, sum: 20, sumSq: 200 } };
    peer.send(signedStatsReport(site, req.runId as string, stats));
  });
  return peer;
}

/** Answers `round`'s evaluation task with fixed sums over 5 rows. */
export function answerEval(peer: TestPeer, round: number): void {
  void peer.task('evaluate', round).then((t) => {
    const sums = { n: 5, absErr: 2, within20: 1, sqErr: 1, sumY: 10, sumY2: 30 };
    peer.send(JSON.stringify({ type: 'eval-result', v: 1, runId: t.header.runId, round, modelHash: t.header.modelHash, numExamples: 5, loss: 1, sums }));
  });
}

/** The run once it has ended (completed, failed or cancelled), read over the API with `headers`. */
export async function waitForRun(coordinator: Coordinator, headers: Record<string, string>, id: string): Promise<RunView> {
  for (let i = 0; i < 200; i++) {
    const run = (await coordinator.app.inject({ headers, url: `/v1/runs/${id}` })).json<RunView>();
    if (run.status === 'completed' || run.status === 'failed' || run.status === 'cancelled') return run;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('run did not end');
}
