// A coordinator database whose ledger verifies in full: registered sites sign their statistics
// and updates, and (unless told otherwise) endorse every entry, as real agents would.

import { openDb } from '../../coordinator/store/db.js';
import { headFileOf } from '../../coordinator/store/head-file.js';
import { Store } from '../../coordinator/store/store.js';
import { hashConfig, type LedgerEntry } from '../../shared/ledger.js';
import { hashWeights } from '../../shared/model-hash.js';
import { RUN_DEFAULTS, type RunConfig } from '../../shared/run-config.js';
import { endorsementBody, generateKeyPair, sign, statsBody, updateBody, type KeyPair } from '../../shared/signing.js';
import { registerTestSites, type TestSite } from './test-peer.js';
import { TINY_STUDY } from './tiny-study.js';

export const LEDGER_KEY: KeyPair = generateKeyPair();

export function endorse(site: TestSite, entry: LedgerEntry): { index: number; entryHash: string; signature: string } {
  return { index: entry.index, entryHash: entry.entryHash, signature: sign('endorsement', endorsementBody(site.siteId, entry.index, entry.entryHash), site.keys.secretKey) };
}

/** Round 0 and `rounds` training rounds of one run by `siteIds`; endorsed by all unless `endorse` is false. Leaves the store open. */
export function signedLedger(file: string, rounds: number, opts: { siteIds?: string[]; endorse?: boolean; sites?: Record<string, TestSite> } = {}): { store: Store; sites: Record<string, TestSite>; entries: LedgerEntry[] } {
  const store = new Store(openDb(file), LEDGER_KEY, headFileOf(file));
  const sites = opts.sites ?? registerTestSites(store, opts.siteIds ?? ['site-a', 'site-b']);
  const config: RunConfig = { ...RUN_DEFAULTS, study: TINY_STUDY };
  const run = store.createRun(config, hashConfig(config));
  const entries: LedgerEntry[] = [];
  let parent: string | null = null;
  for (let round = 0; round <= rounds; round++) {
    const weights = [{ name: 'w', shape: [2], data: new Float32Array([round, round + 1]) }];
    const modelHash = hashWeights(weights);
    const updateHash = 'c'.repeat(63) + String(round % 10);
    const participants = Object.values(sites).map((s) => ({
      siteId: s.siteId,
      numExamples: 7,
      updateHash,
      signature:
        parent === null
          ? sign('stats', statsBody({ runId: run.id, siteId: s.siteId, statsHash: updateHash, rows: 7 }), s.keys.secretKey)
          : sign('update', updateBody({ runId: run.id, round, siteId: s.siteId, baseModelHash: parent, updateHash, numExamples: 7 }), s.keys.secretKey),
    }));
    const entry = store.commitRound({
      runId: run.id, round, startedAt: new Date().toISOString(), modelHash, weights, metrics: { sites: participants.length }, sites: [], state: { progress: '{}', strategy: null }, bestRound: round,
      entry: { parentModelHash: parent, participants, configHash: run.configHash },
    });
    if (opts.endorse !== false) {
      for (const s of Object.values(sites)) {
        const e = endorse(s, entry);
        store.endorsements.add({ entryIndex: e.index, siteId: s.siteId, entryHash: e.entryHash, signature: e.signature });
      }
    }
    entries.push(entry);
    parent = modelHash;
  }
  return { store, sites, entries };
}
