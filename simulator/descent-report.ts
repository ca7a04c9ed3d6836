// The end of a two-level simulation: what an auditor would do with the national chain. From the
// run's last national entry that names a region's chain head, down to the regional entry of the
// aggregate that region sent up, to one of its sites' signed update, and to that site's own
// replica (shared/hierarchy/descent.ts), printed step by step.

import { textTable } from '../cli/text-table.js';
import { verifyDescent, type Descent } from '../shared/hierarchy/descent.js';
import type { LedgerEntry } from '../shared/ledger.js';
import { readReplicaDir } from '../site-agent/replica.js';
import type { VirtualSiteSpec } from './pool-messages.js';
import { allEntries, type SimCoordinator } from './sim-coordinator.js';

export type DescentReport = Descent;

const STEP_NAMES = ['', 'national chain, the region\'s head', 'regional chain at that head', 'the round the region sent up, the site\'s signed update', 'the site\'s own replica'];

export async function descentReport(runId: string, national: SimCoordinator, regions: readonly SimCoordinator[], sites: readonly VirtualSiteSpec[], log: (line: string) => void): Promise<DescentReport> {
  const chain = await allEntries(national.client);
  const entry = chain.filter((e) => e.runId === runId && (e.children?.length ?? 0) > 0).at(-1);
  if (entry === undefined) return reported({ ok: false, steps: [{ step: 1, ok: false, detail: `no entry of run ${runId} names a region's chain head` }] }, log);
  const child = entry.children![0]!;
  const region = regions.find((r) => r.name === child.siteId);
  const sent = entry.participants.find((p) => p.siteId === child.siteId);
  if (region === undefined || sent === undefined) return reported({ ok: false, steps: [{ step: 1, ok: false, detail: `${child.siteId} is not a region of this simulation` }] }, log);
  const regional = await allEntries(region.client);
  // The site to follow: the first participant of the regional round that made what the region sent up.
  const made = regional.slice(0, child.head.length).find((e) => e.modelHash === sent.updateHash);
  const siteId = made?.participants[0]?.siteId;
  const site = sites.find((s) => s.siteId === siteId);
  log(`descending from national entry #${entry.index} (run ${runId} round ${entry.round}) to ${child.siteId}'s chain (head #${child.head.length - 1}) and ${siteId ?? 'one of its sites'}:`);
  const result = verifyDescent({
    national: chain,
    nationalIndex: entry.index,
    regionId: child.siteId,
    regional,
    hospitalId: siteId ?? '(none)',
    ...(site === undefined ? {} : { hospitalKey: site.publicKey, hospitalReplica: await replicaOf(site) }),
  });
  return reported(result, log);
}

function reported(r: DescentReport, log: (line: string) => void): DescentReport {
  log(textTable(['step', 'result', 'what was checked'], r.steps.map((s) => [`${s.step}. ${STEP_NAMES[s.step]}`, s.ok ? 'ok' : 'FAILS', s.detail])));
  return r;
}

/** A site's replica entries as it keeps them; none when it holds none or they do not parse (step 4 then fails). */
const replicaOf = (site: VirtualSiteSpec): Promise<LedgerEntry[]> => readReplicaDir(site.stateDir).then((r) => r.entries, () => []);
