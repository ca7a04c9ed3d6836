// `npm run demo`: a real federation on this machine. Synthetic cohorts for N hospitals, a
// coordinator and N site agents as separate processes on loopback, a training run followed
// round by round, the ledger verified (coordinator and every site replica), one prediction and
// its audit row. Each step uses the API token of the role that would take it.

import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { CoordinatorClient } from './client/client.js';
import { diffChains } from '../shared/ledger-diff.js';
import { readReplicaDir } from '../site-agent/replica.js';
import { printRunEnd } from './remote-commands.js';
import { ROLES } from '../shared/roles.js';
import { roundLine } from './round-format.js';
import { generateSiteCsvs } from '../datasets/generate.js';
import { iwpcWeeklyDose } from '../datasets/iwpc-formula.js';
import type { LedgerEntry } from '../shared/ledger.js';
import { startLocalFederation, type LocalFederation } from './local-federation.js';

export const EXAMPLE_PATIENT = {
  age_years: 67,
  sex: 'F',
  height_cm: 163,
  weight_kg: 71,
  ancestry: 'White',
  cyp2c9: '*1/*3',
  vkorc1_1639: 'A/G',
  amiodarone: '0',
  enzyme_inducer: '0',
};

export async function runDemo(o: { dir: string; sites: number; rounds: number; keep?: boolean }): Promise<number> {
  const dir = resolve(o.dir);
  const shown = relative(process.cwd(), dir) || '.';
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  console.log(`fedrx demo: ${o.sites} hospitals, ${o.rounds} rounds; data folder ./${shown} (SQLite, site CSVs, replicas, logs)`);

  const cohorts = await generateSiteCsvs({ sites: o.sites, outDir: join(dir, 'sites'), seed: 'fedrx-demo' });
  for (const c of cohorts) {
    const mix = Object.entries(c.ancestryMix).map(([k, v]) => `${k} ${(v * 100).toFixed(0)}%`).join(', ');
    console.log(`  ${c.siteId}: ${c.rows} synthetic patients (${mix})`);
  }

  const fed = await startLocalFederation(dir, cohorts.map((c) => ({ siteId: c.siteId, file: c.file })));
  try {
    const scientist = fed.clients['data-scientist'];
    console.log(`coordinator (pid ${fed.coordinator.child.pid}) on ${fed.url}; dashboard at ${fed.url}/ (REST docs at ${fed.url}/docs)`);
    console.log(`API tokens created with \`fedrx token create\`: ${ROLES.map((r) => `${r} ${fed.tokenIds[r]}`).join(', ')} (secrets stored hashed, not shown)`);
    console.log(`${o.sites} site agents connected (separate processes: ${[...fed.agents.values()].map((p) => p.child.pid).join(', ')})`);

    const run = await scientist.startRun({ rounds: o.rounds, minSites: Math.max(1, o.sites - 1), roundTimeoutSec: 120, waitForSitesSec: 30 });
    console.log(`run ${run.id} started (study ${run.study}); one line per round:`);
    const done = await scientist.follow(run.id, (r, view) => console.log('  ' + roundLine(r, view)));
    if (printRunEnd(done) !== 0) return 1;

    const ok = await checkLedger(fed.clients.auditor, fed, cohorts.map((c) => c.siteId));
    if (!ok) return 1;

    const p = await fed.clients.clinician.predict({ runId: run.id, features: EXAMPLE_PATIENT });
    const formula = iwpcWeeklyDose({
      ageYears: 67, heightCm: 163, weightKg: 71, race: 'White', cyp2c9: '*1/*3', vkorc1: 'A/G', amiodarone: false, enzymeInducer: false,
    });
    console.log(`example prediction for ${JSON.stringify(EXAMPLE_PATIENT)}:`);
    console.log(`  warfarin ${Number(p.prediction).toFixed(1)} ${p.unit ?? ''} (published IWPC formula: ${formula.toFixed(1)} mg/week)`);
    if (p.interval !== undefined) {
      const q = p.conformal!;
      console.log(
        `  ${(100 * p.interval.coverage).toFixed(0)}% interval ${p.interval.lower.toFixed(1)} – ${p.interval.upper.toFixed(1)} ${p.unit ?? ''} ` +
          `(conformal quantile ${q.quantile === null ? 'unbounded' : q.quantile.toFixed(3)} over ${q.calibrationRows} calibration rows from ${q.sites} sites, recorded in the same entry)`,
      );
    }
    console.log(`  model ${p.modelHash} = run ${p.runId} round ${p.round}, ledger entry #${p.ledgerIndex} ${p.entryHash}`);
    const audit = (await fed.clients.auditor.auditLog()).entries.at(-1);
    if (audit === undefined || audit.modelHash !== p.modelHash) {
      console.log('prediction audit log: no row for this prediction');
      return 1;
    }
    console.log(`  audit log #${audit.seq}: ${audit.role} ${audit.tokenId} at ${audit.at}, input HMAC ${audit.inputHash.slice(0, 16)}… (the input itself is not kept)`);
    console.log(`demo finished: logs in ./${relative(process.cwd(), join(dir, 'logs'))}, database ./${relative(process.cwd(), fed.db)}`);
    if (o.keep) await keepUp(fed, dir);
    return 0;
  } finally {
    await fed.stop();
  }
}

/**
 * `--keep`: the federation stays up for a person to open the dashboard, until Ctrl-C. The role
 * tokens go to a file only its owner may read, never to the terminal.
 */
async function keepUp(fed: LocalFederation, dir: string): Promise<void> {
  const file = join(dir, 'dashboard-tokens.txt');
  writeFileSync(file, ROLES.map((r) => `${r}\t${fed.tokens[r]}\n`).join(''), { mode: 0o600 });
  console.log(`dashboard: open ${fed.url}/ and sign in with a token from ./${relative(process.cwd(), file)} (one per role; mode 0600)`);
  console.log('the coordinator and the site agents keep running: press Ctrl-C to stop them');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

/**
 * The coordinator's chain verifies (hashes, links, coordinator and site signatures), its entries
 * are endorsed by their sites, and every site's replica holds exactly the same chain.
 */
export async function checkLedger(client: CoordinatorClient, fed: LocalFederation, siteIds: string[]): Promise<boolean> {
  // The last entry's endorsements arrive just after the run ends; give them a moment.
  let verdict = await client.verifyLedger();
  for (const until = Date.now() + 10_000; verdict.ok && verdict.unendorsed.length > 0 && Date.now() < until; ) {
    await new Promise((r) => setTimeout(r, 200));
    verdict = await client.verifyLedger();
  }
  if (!verdict.ok) {
    console.log(`ledger BROKEN at entry ${verdict.badIndex}: ${verdict.reason}`);
    return false;
  }
  const chain = await client.ledger();
  // Replicas receive the last entry asynchronously; give them a moment to catch up.
  const until = Date.now() + 10_000;
  let differing: string[] = [];
  do {
    const replicas = await Promise.all(siteIds.map(async (s) => ({ s, entries: (await readReplicaDir(fed.replicaDir(s))).entries })));
    differing = replicas.filter((r) => !sameChain(r.entries, chain.entries)).map((r) => r.s);
    if (differing.length === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  } while (Date.now() < until);
  console.log(`ledger verified: ${verdict.length} entries, head ${verdict.headHash}; every contribution signed by its site, every entry signed by the coordinator`);
  const endorsed = verdict.entries.filter((e) => e.endorsed).length;
  console.log(`endorsements: ${endorsed} of ${verdict.length} entries endorsed by a quorum of their participants${verdict.unendorsed.length > 0 ? ` (still missing after 10 s: ${verdict.unendorsed.map((i) => `#${i}`).join(', ')})` : ''}`);
  if (differing.length > 0) console.log(`replicas differing from the coordinator: ${differing.join(', ')}`);
  // Every demo site takes part in every round, so an entry its sites did not endorse is a failure.
  if (differing.length > 0 || verdict.unendorsed.length > 0) return false;
  console.log(`site replicas: ${siteIds.length}/${siteIds.length} hold the same chain, entry for entry`);
  return true;
}

function sameChain(a: readonly LedgerEntry[], b: readonly LedgerEntry[]): boolean {
  const d = diffChains(a, b);
  return d.consistent && d.leftLength === d.rightLength;
}
