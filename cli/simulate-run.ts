// `fedrx simulate`, run: the options read, the simulation run (simulator/simulation.ts), and a
// summary of time per round, memory and the ledger.

import { existsSync } from 'node:fs';
import { resolveStudy } from '../coordinator/http/run-config.js';
import { loadStudyFile } from '../shared/load-study.js';
import { isRegression } from '../shared/study.js';
import { FedrxError } from '../shared/errors.js';
import { parsePartition } from '../simulator/partition-spec.js';
import { mib } from '../simulator/process-memory.js';
import { simulate } from '../simulator/simulation.js';
import { csvSource, syntheticSource } from '../simulator/source-table.js';
import { printRunEnd, runBody } from './remote-commands.js';
import { textTable } from './text-table.js';

const count = (name: string, v: unknown): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new FedrxError('E_BAD_REQUEST', `${name} must be a whole number ≥ 1, not ${String(v)}`);
  return n;
};

export async function simulateCommand(o: Record<string, unknown>): Promise<number> {
  const sites = count('--sites', o.sites);
  const seed = String(o.simSeed);
  const partition = parsePartition(String(o.partition));
  const study = existsSync(String(o.study)) ? loadStudyFile(String(o.study)) : resolveStudy(String(o.study));
  const source = typeof o.data === 'string' ? await csvSource(o.data) : syntheticSource(sites * count('--rows-per-site', o.rowsPerSite), seed);
  const result = await simulate({
    dir: String(o.dir),
    sites,
    source,
    partition,
    target: { column: study.target.name, regression: isRegression(study) },
    seed,
    threads: count('--threads', o.threads),
    dropout: Number(o.dropout),
    stragglers: Number(o.stragglers),
    straggleMs: Number(o.straggleMs),
    byzantine: Number(o.hostile),
    attack: typeof o.attack === 'string' ? o.attack : null,
    regions: o.regions === '0' ? 0 : count('--regions', o.regions),
    regionMinSites: o.regionMinSites === undefined ? null : count('--region-min-sites', o.regionMinSites),
    run: runBody(o),
    log: (line) => console.log(line),
  });
  const code = printRunEnd(result.run);
  const per = result.secondsPerRound;
  const mean = per.length === 0 ? 0 : per.reduce((a, b) => a + b, 0) / per.length;
  const two = result.regionalPeakRss !== null;
  const ledger = `${result.ledgerOk ? 'verifies' : 'BROKEN'} (${result.simulatedEntries} entries simulated)${result.descent === null ? '' : `; down to a site's entry: ${result.descent.ok ? 'verifies' : 'FAILS'}`}`;
  console.log(
    textTable(
      ['virtual sites', ...(two ? ['regions'] : []), 'rounds', 'mean s/round', 'max s/round', two ? 'national peak RSS' : 'coordinator peak RSS', ...(two ? ['largest regional peak RSS'] : []), 'simulator memory/site', 'simulator peak RSS', 'ledger'],
      [
        [
          String(result.sites),
          ...(two ? [String(o.regions)] : []),
          String(per.length),
          mean.toFixed(1),
          Math.max(0, ...per).toFixed(1),
          mib(result.coordinatorPeakRss),
          ...(two ? [mib(result.regionalPeakRss)] : []),
          result.bytesPerSite === null ? 'n/a' : `${(result.bytesPerSite / 1024).toFixed(0)} KiB`,
          mib(result.simulatorPeakRss),
          ledger,
        ],
      ],
    ),
  );
  return result.ledgerOk ? code : 1;
}
