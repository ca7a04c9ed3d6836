// `fedrx simulate`: a whole federation on one machine. The real coordinator runs as its own
// process (its WebSocket endpoint, ledger and signatures as in production); the sites are virtual:
// real site agents, each with its own key, rows, replica and endorsements, many to a worker thread
// (site-pool.ts). The run is marked as simulated in its configuration and in every ledger entry.
// With --regions, two levels (docs/scale.md): the sites are split among regional coordinators, and
// one regional agent per region is a site of a national coordinator, where the run is started.

import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RunView } from '../cli/client/client.js';
import { roundLine } from '../cli/round-format.js';
import { ATTACKS, isAttack } from '../shared/byzantine/attacks.js';
import { FedrxError } from '../shared/errors.js';
import { deriveSeed, Prng } from '../shared/prng.js';
import { generateKeyPair } from '../shared/signing.js';
import type { SimulationSection } from '../shared/simulation.js';
import { descentReport, type DescentReport } from './descent-report.js';
import { partitionLabel, partitionSource, type PartitionChoice, type TargetOf } from './partition-spec.js';
import type { VirtualSiteSpec } from './pool-messages.js';
import { mib, residentBytes } from './process-memory.js';
import { RegionalAgents } from './regional-agents.js';
import { allEntries, startSimCoordinator, waitForConnected, type SimCoordinator } from './sim-coordinator.js';
import { SitePool } from './site-pool.js';
import { writeSiteFiles, type SourceTable } from './source-table.js';

export interface SimulationOptions {
  dir: string;
  sites: number;
  source: SourceTable;
  partition: PartitionChoice;
  /** The study's target (label skew partitions on it). */
  target: TargetOf;
  seed: string;
  threads: number;
  dropout: number;
  stragglers: number;
  straggleMs: number;
  byzantine: number;
  attack: string | null;
  /** 0: one coordinator for all the sites. Else a two-level federation (docs/scale.md): this many regional coordinators, each a site of a national one. */
  regions: number;
  /** Sites a regional round needs (default: half the region's). */
  regionMinSites: number | null;
  /** POST /v1/runs body without `simulation`, which is added here. */
  run: Record<string, unknown>;
  log: (line: string) => void;
}

export interface SimulationResult {
  /** Virtual sites started (a split by column makes one per value, whatever was asked). */
  sites: number;
  run: RunView;
  ledgerOk: boolean;
  ledgerLength: number;
  simulatedEntries: number;
  secondsPerRound: number[];
  /** The top coordinator's (the national one in a two-level simulation). */
  coordinatorPeakRss: number | null;
  /** The largest regional coordinator's peak; null without regions. */
  regionalPeakRss: number | null;
  /** Two levels: the check from the national chain down to one site's own entry. */
  descent: DescentReport | null;
  /** Growth of this process's RSS per virtual site, measured once all are connected. */
  bytesPerSite: number | null;
  /** This process's peak RSS over the whole simulation (its sites' rows and replicas fill in as they work). */
  simulatorPeakRss: number | null;
}

export async function simulate(o: SimulationOptions): Promise<SimulationResult> {
  checkOptions(o);
  const { log } = o;
  rmSync(o.dir, { recursive: true, force: true });
  const logDir = join(o.dir, 'logs');
  mkdirSync(logDir, { recursive: true });

  const parts = partitionSource(o.source, o.partition, o.sites, o.seed, o.target);
  const sites = parts.length; // a split by column makes one site per value
  if (o.regions > sites) throw new FedrxError('E_BAD_PARTITION', `${o.regions} regions need at least as many sites; the partition made ${sites}`);
  const siteIds = Array.from({ length: sites }, (_, i) => `sim-${String(i + 1).padStart(String(sites).length, '0')}`);
  const files = await writeSiteFiles(o.source, parts, siteIds, join(o.dir, 'data'));
  const sizes = parts.map((p) => p.length);
  log(`${sites} virtual sites from ${o.source.label} (${o.source.rows.length} rows), partition ${partitionLabel(o.partition)}: ${Math.min(...sizes)}–${Math.max(...sizes)} rows per site`);

  const specs = siteSpecs(o, siteIds, files);
  // Each coordinator's sites: all of them, or one region's each.
  const groups = Array.from({ length: Math.max(1, o.regions) }, (_, k) => specs.filter((s) => s.coordinator === k));
  const coordinators: SimCoordinator[] = [];
  let pool: SitePool | null = null;
  let regional: RegionalAgents | null = null;
  try {
    // The sites' own coordinators: one, or one per region.
    const hosts =
      o.regions === 0
        ? [await startSimCoordinator('coordinator', o.dir, specs, logDir)]
        : await Promise.all(Array.from({ length: o.regions }, (_, k) => startSimCoordinator(regionId(k, o.regions), join(o.dir, 'regions', regionId(k, o.regions)), groups[k]!, logDir)));
    coordinators.push(...hosts);
    const before = residentBytes('self')?.rss ?? null;
    const started = performance.now();
    pool = await SitePool.start({ threads: o.threads, sites: specs, coordinators: hosts.map((h) => ({ url: h.url, key: h.key })), logDir });
    log(`site pools: ${Math.min(o.threads, sites)} threads, tfjs backend ${pool.backend}; agents' logs in ${logDir}`);
    for (const [k, host] of hosts.entries()) await waitForConnected(host, groups[k]!.length, log);
    const after = residentBytes('self')?.rss ?? null;
    const bytesPerSite = before === null || after === null ? null : (after - before) / sites;
    const where = o.regions === 0 ? '' : ` to ${o.regions} regional coordinators`;
    log(`${sites} sites connected${where} in ${((performance.now() - started) / 1000).toFixed(1)} s; simulator memory ${mib(after)} (${bytesPerSite === null ? 'n/a' : `${(bytesPerSite / 1024).toFixed(0)} KiB`} per site), coordinators ${mib(totalRss(hosts))}`);

    let top = hosts[0]!;
    if (o.regions > 0) {
      const identities = hosts.map((h) => ({ siteId: h.name, keys: generateKeyPair() }));
      top = await startSimCoordinator('national', join(o.dir, 'national'), identities.map((r) => ({ siteId: r.siteId, publicKey: r.keys.publicKey })), logDir);
      coordinators.push(top);
      regional = await RegionalAgents.start({ national: top, regions: hosts, identities, relayRun: (k) => relayRunBody(o, groups[k]!.length), dir: o.dir, logDir });
      await waitForConnected(top, o.regions, log);
      log(`${o.regions} regional agents connected to the national coordinator; each relays national tasks to its region's ${Math.min(...groups.map((g) => g.length))}–${Math.max(...groups.map((g) => g.length))} sites`);
    }

    const run = await top.client.startRun({ ...o.run, simulation: section(o, sites) });
    log(`run ${run.id} started (config ${run.configHash.slice(0, 16)}), marked simulated on the ledger`);
    const secondsPerRound: number[] = [];
    let last = performance.now();
    const done = await top.client.follow(
      run.id,
      (r, view) => {
        const now = performance.now();
        const s = (now - last) / 1000;
        last = now;
        if (r.round > 0) secondsPerRound.push(s);
        const memory = o.regions === 0 ? `coordinator ${mib(top.memory.now())}` : `national coordinator ${mib(top.memory.now())}, regional ${mib(totalRss(hosts))} together`;
        log(`${roundLine(r, view)}\n    ${s.toFixed(1)} s; ${memory}, simulator ${mib(residentBytes('self')?.rss)}`);
      },
      500,
    );
    const audit = await top.auditor.verifyLedger();
    const entries = (await allEntries(top.client)).filter((e) => e.runId === run.id);
    const simulatedEntries = entries.filter((e) => e.simulation !== undefined).length;
    log(`${top.name} ledger: ${audit.ok ? 'verifies' : `BROKEN at ${audit.badIndex}: ${audit.reason}`}, ${audit.length} entries; ${simulatedEntries} of the run's ${entries.length} entries marked simulated`);
    let ledgerOk = audit.ok;
    let descent: DescentReport | null = null;
    if (o.regions > 0) {
      for (const host of hosts) {
        const r = await host.auditor.verifyLedger();
        if (!r.ok) log(`${host.name} ledger: BROKEN at ${r.badIndex}: ${r.reason}`);
        ledgerOk &&= r.ok;
      }
      log(`regional ledgers: ${ledgerOk ? 'all verify' : 'NOT all verify'}`);
      descent = await descentReport(run.id, top, hosts, specs, log);
      ledgerOk &&= descent.ok;
    }
    return { sites, run: done, ledgerOk, ledgerLength: audit.length, simulatedEntries, secondsPerRound, coordinatorPeakRss: top.memory.peak(), regionalPeakRss: o.regions === 0 ? null : Math.max(...hosts.map((h) => h.memory.peak() ?? 0)), bytesPerSite, simulatorPeakRss: residentBytes('self')?.peak ?? null, descent };
  } finally {
    await regional?.stop(); // ends the relay runs
    await pool?.stop();
    await Promise.all(coordinators.map((c) => c.stop()));
  }
}

const regionId = (k: number, regions: number): string => `region-${String(k + 1).padStart(String(regions).length, '0')}`;

const totalRss = (cs: readonly SimCoordinator[]): number | null => {
  const each = cs.map((c) => c.memory.now());
  return each.some((m) => m === null) ? null : each.reduce<number>((a, b) => a + b!, 0);
};

/** A region's relay runs: its own sites' quorum and timeouts, FedAvg among them, marked simulated. */
function relayRunBody(o: SimulationOptions, regionSites: number): Record<string, unknown> {
  const { regions: _, ...mark } = section(o, regionSites);
  return {
    strategy: 'fedavg',
    minSites: Math.min(regionSites, o.regionMinSites ?? Math.ceil(regionSites / 2)),
    ...(o.run.roundTimeoutSec === undefined ? {} : { roundTimeoutSec: o.run.roundTimeoutSec }),
    simulation: mark,
  };
}

function checkOptions(o: SimulationOptions): void {
  const share = (name: string, x: number): void => {
    if (!Number.isFinite(x) || x < 0 || x > 1) throw new FedrxError('E_BAD_REQUEST', `${name} must be between 0 and 1, not ${x}`);
  };
  share('--dropout', o.dropout);
  share('--stragglers', o.stragglers);
  share('--hostile', o.byzantine);
  if (!Number.isInteger(o.threads) || o.threads < 1) throw new FedrxError('E_BAD_REQUEST', `--threads must be a whole number ≥ 1, not ${o.threads}`);
  if (!Number.isInteger(o.straggleMs) || o.straggleMs < 0) throw new FedrxError('E_BAD_REQUEST', `--straggle-ms must be a whole number ≥ 0, not ${o.straggleMs}`);
  if (o.byzantine > 0 && o.attack === null) throw new FedrxError('E_BAD_REQUEST', '--hostile needs --attack');
  if (o.attack !== null && !isAttack(o.attack)) throw new FedrxError('E_BAD_REQUEST', `--attack ${o.attack}: one of ${ATTACKS.join(', ')}`);
  if (!Number.isInteger(o.regions) || o.regions < 0) throw new FedrxError('E_BAD_REQUEST', `--regions must be a whole number ≥ 0, not ${o.regions}`);
  const national = ['secureAggregation', 'dp', 'compression'].filter((k) => o.run[k] !== undefined && o.run[k] !== false && o.run[k] !== 'none');
  if (o.regions > 0 && national.length > 0) {
    throw new FedrxError('E_BAD_REQUEST', `--regions: ${national.join(', ')} among regions is not supported (a region's update must stay its regional aggregate); regions refuse such tasks with E_RELAY_SETTINGS`);
  }
}

/** Keys and behaviour per site: the first ⌊byzantine·n⌋ of a seeded shuffle are hostile, the next ⌊stragglers·n⌋ late. */
function siteSpecs(o: SimulationOptions, siteIds: string[], files: string[]): VirtualSiteSpec[] {
  const order = siteIds.map((_, i) => i);
  const rng = new Prng(`${o.seed}/roles`);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const hostile = new Set(order.slice(0, Math.floor(o.byzantine * siteIds.length)));
  const late = new Set(order.slice(hostile.size, hostile.size + Math.floor(o.stragglers * siteIds.length)));
  return siteIds.map((siteId, i) => {
    const keys = generateKeyPair();
    return {
      siteId,
      dataFile: files[i]!,
      stateDir: join(o.dir, 'sites', siteId),
      publicKey: keys.publicKey,
      secretKey: keys.secretKey,
      behaviour: { dropout: o.dropout, straggleMs: late.has(i) ? o.straggleMs : 0, attack: hostile.has(i) ? o.attack : null, seed: deriveSeed(o.seed, siteId) },
      // Regions take consecutive sites: with a split by column, whole values stay together.
      coordinator: o.regions === 0 ? 0 : Math.floor((i * o.regions) / siteIds.length),
    };
  });
}

function section(o: SimulationOptions, sites: number): SimulationSection {
  return {
    virtualSites: sites,
    source: o.source.label,
    partition: partitionLabel(o.partition),
    seed: o.seed,
    dropout: o.dropout,
    stragglers: o.stragglers,
    straggleMs: o.straggleMs,
    byzantine: o.byzantine,
    ...(o.attack === null ? {} : { attack: o.attack }),
    ...(o.regions === 0 ? {} : { regions: o.regions }),
  };
}
