// End to end through the command line, as a hospital would type it: `fedrx datasets generate`
// writes the cohorts and the study; `fedrx run start --wait` trains FedAdam from a YAML study on a
// coordinator and two agents, one of which reads a CSV with a renamed column through
// `--column-map`; `fedrx predict` scores a clinic's CSV with one unscorable row, sending only the
// model's input columns (proven by the audit row's keyed hash) and failing a malformed row alone; an agent whose CSV
// holds an out-of-range value refuses it (E_CSV_BAD_VALUE) unless started with --drop-bad-rows.

import * as aq from 'arquero';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { spawnFedrx, type FedrxProcess } from '../../cli/spawn.js';
import { inputHmac } from '../../coordinator/trust/audit-log.js';
import { tableCell } from '../../cli/predict-upload.js';
import { toCsv } from '../../datasets/write-csv.js';
import { loadStudyFile } from '../../shared/load-study.js';
import { inputColumns } from '../../shared/study.js';
import { runFedrx } from '../helpers/fedrx-process.js';
import { tempDir } from '../helpers/temp.js';
import { fedrxCommand, startFederation, type Federation } from './harness.js';

const STUDY_JSON = fileURLToPath(new URL('../../datasets/studies/synthetic-warfarin.json', import.meta.url));

// Every process and folder a test starts is stopped and removed at the end, whatever failed.
const spawned: FedrxProcess[] = [];
const federations: Federation[] = [];
const dirs: string[] = [];
const tmp = (prefix: string): string => {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
};
const fedrx = (name: string, args: string[], env: NodeJS.ProcessEnv = {}): FedrxProcess => {
  const p = spawnFedrx(name, args, { env });
  spawned.push(p);
  return p;
};
afterAll(async () => {
  await Promise.all([...spawned.map((p) => p.stop()), ...federations.map((f) => f.stop())]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A CSV as header and rows of strings (the generator writes no quoted fields). */
function readCsvRows(file: string): { header: string[]; rows: string[][] } {
  const [header, ...rows] = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => l.split(','));
  return { header: header!, rows };
}

function writeCsvRows(file: string, header: string[], rows: string[][]): void {
  writeFileSync(file, [header, ...rows].map((r) => r.join(',')).join('\n') + '\n');
}

describe('fedrx datasets generate', () => {
  it('writes one CSV per site and the study that reads them, byte for byte the same for the same seed', async () => {
    const dir = tmp('cli-datasets');
    const generate = (out: string, seed: string) => fedrxCommand(['datasets', 'generate', '--sites', '3', '--out', join(dir, out), '--patients', '240', '--seed', seed]);
    const [a, b, c] = await Promise.all([generate('a', 'cli'), generate('b', 'cli'), generate('c', 'another seed')]);
    for (const r of [a, b, c]) expect(r.code, r.lines.join('\n')).toBe(0);

    const files = ['site-1.csv', 'site-2.csv', 'site-3.csv', 'synthetic-warfarin.json'];
    expect(readdirSync(join(dir, 'a')).sort()).toEqual(files);
    // One line per site (id, patients, file), then the study file.
    const siteLines = a.lines.filter((l) => l.startsWith('site-')).map((l) => l.split('\t'));
    expect(siteLines.map(([id, , file]) => [id, file])).toEqual([1, 2, 3].map((i) => [`site-${i}`, join(dir, 'a', `site-${i}.csv`)]));
    const patients = siteLines.map(([, n]) => Number(n!.match(/^(\d+) patients$/)![1]));
    expect(patients.reduce((s, n) => s + n, 0)).toBe(240);
    expect(a.lines).toContain(`study\t${join(dir, 'a', 'synthetic-warfarin.json')}`);

    // The study is the packaged one, and names exactly the columns every CSV has.
    const studyText = readFileSync(join(dir, 'a', 'synthetic-warfarin.json'), 'utf8');
    expect(studyText).toBe(readFileSync(STUDY_JSON, 'utf8'));
    const study = JSON.parse(studyText) as { name: string; idColumn: string; features: { name: string }[]; target: { name: string } };
    expect(study.name).toBe('synthetic-warfarin');
    const named = [study.idColumn, ...study.features.map((f) => f.name), study.target.name].sort();
    expect(named).toHaveLength(11);
    patients.forEach((n, i) => {
      const csv = readCsvRows(join(dir, 'a', `site-${i + 1}.csv`));
      expect([...csv.header].sort()).toEqual(named);
      expect(csv.rows).toHaveLength(n);
      expect(csv.rows.every((r) => r.length === csv.header.length)).toBe(true);
    });

    // Same seed, same bytes; another seed, other patients.
    for (const f of files) expect(readFileSync(join(dir, 'b', f)).equals(readFileSync(join(dir, 'a', f))), f).toBe(true);
    expect(readFileSync(join(dir, 'c', 'site-1.csv')).equals(readFileSync(join(dir, 'a', 'site-1.csv')))).toBe(false);
  });
});

describe('a federation driven by the CLI', () => {
  let fed: Federation;
  let dir: string;
  /** Set by the training test, used by the prediction test. */
  let trained: { runId: string; lastModelHash: string } | undefined;

  beforeAll(async () => {
    dir = tmp('cli-fed');
    // site-2's export calls weight_kg "Weight (kg)": its agent maps the study column to it.
    const mapFile = join(dir, 'column-map.json');
    writeFileSync(mapFile, JSON.stringify({ weight_kg: 'Weight (kg)' }));
    fed = await startFederation(dir, {
      sites: 2,
      patients: 200,
      extraAgentArgs: { 'site-2': ['--column-map', mapFile] },
      dataFiles: (sites) => {
        const csv = readCsvRows(sites[1]!.file);
        const renamed = join(dir, 'site-2-renamed.csv');
        writeCsvRows(renamed, csv.header.map((h) => (h === 'weight_kg' ? 'Weight (kg)' : h)), csv.rows);
        return { 'site-2': renamed };
      },
    });
    federations.push(fed);
  });

  it('trains FedAdam from a YAML study with `fedrx run start --wait`, both sites taking part', async () => {
    // The packaged study as YAML, renamed so the run shows it came from this file.
    const study = JSON.parse(readFileSync(STUDY_JSON, 'utf8')) as { name: string };
    study.name = 'synthetic-warfarin-yaml';
    const studyFile = join(dir, 'study.yaml');
    writeFileSync(studyFile, toYaml(study));

    const start = fedrx(
      'run-start',
      ['run', 'start', '--coordinator', fed.url, '--study', studyFile, '--strategy', 'fedadam', '--rounds', '2', '--min-sites', '2', '--wait'],
      { FEDRX_TOKEN: fed.tokens['data-scientist'] },
    );
    expect(await start.exited, start.lines.join('\n')).toBe(0);
    const runId = start.lines.map((l) => l.match(/^run (\S+) \w+ \(study synthetic-warfarin-yaml, config [0-9a-f]{16}\)$/)?.[1]).find((x) => x !== undefined);
    expect(runId, start.lines.join('\n')).toBeDefined();
    // One line per round, round 0 being the statistics; both sites in every training round.
    const roundLines = start.lines.filter((l) => /^round \d+\/\d+ /.test(l));
    expect(roundLines.map((l) => l.split(' ')[1])).toEqual(['0/2', '1/2', '2/2']);
    expect(roundLines[0]).toMatch(/statistics of \d+ rows from 2 sites/);
    for (const l of roundLines.slice(1)) expect(l).toMatch(/ sites 2\/2 /);
    // No validation part in this study: the run keeps and serves its last round.
    const end = start.lines.at(-1)!.match(new RegExp(`^run ${runId} completed: serves round 2 \\(the last round\\), model ([0-9a-f]{64}) \\(ledger #2\\)$`));
    expect(end, start.lines.join('\n')).not.toBeNull();
    const lastModelHash = end![1]!;

    // The run as the API reports it.
    const run = await fed.clients['data-scientist'].run(runId!);
    expect(run).toMatchObject({ id: runId, status: 'completed', error: null, study: 'synthetic-warfarin-yaml' });
    expect(run.config).toMatchObject({ strategy: 'fedadam', rounds: 2, minSites: 2 });
    expect(run.rounds.map((r) => [r.round, r.status, r.ledgerIndex])).toEqual([
      [0, 'committed', 0],
      [1, 'committed', 1],
      [2, 'committed', 2],
    ]);
    for (const r of run.rounds) expect(r.sites.map((s) => [s.siteId, s.status])).toEqual([['site-1', 'accepted'], ['site-2', 'accepted']]);
    expect(run.rounds[2]!.modelHash).toBe(lastModelHash);

    // `fedrx run status`, this time with --token.
    const status = await fedrxCommand(['run', 'status', runId!, '--coordinator', fed.url, '--token', fed.tokens['data-scientist']]);
    expect(status.code, status.lines.join('\n')).toBe(0);
    expect(status.lines[0]).toBe(`run ${runId}: completed, serves round 2, study synthetic-warfarin-yaml`);
    expect(status.lines.slice(1).map((l) => l.split(' ')[1])).toEqual(['0/2', '1/2', '2/2']);

    // The auditor's ledger: three entries of this run, each with both sites as participants.
    const chain = await fed.clients.auditor.ledger();
    expect(chain.entries.map((e) => [e.index, e.runId, e.round, e.modelHash])).toEqual(run.rounds.map((r) => [r.ledgerIndex, runId, r.round, r.modelHash]));
    for (const e of chain.entries) expect(e.participants.map((p) => p.siteId)).toEqual(['site-1', 'site-2']);

    // site-2 read every row of its renamed CSV through the map.
    const read = await fed.agents.get('site-2')!.waitFor(/site data for study synthetic-warfarin-yaml: (\d+) rows, \d+ train, \d+ held out, dropped (\{.*\})/, 5000);
    expect([Number(read[1]), read[2]]).toEqual([fed.sites[1]!.rows, '{}']);

    trained = { runId: runId!, lastModelHash };
  });

  it('scores a clinic CSV with `fedrx predict`: a line per patient, the unscorable one says why', async () => {
    expect(trained, 'needs the run of the previous test').toBeDefined();
    const study = loadStudyFile(STUDY_JSON);
    const columns = [study.idColumn!, ...inputColumns(study)];
    // Three patients of site-1's cohort, without their dose; the second has a sex the study does not know.
    const cohort = aq.fromCSV(readFileSync(fed.sites[0]!.file, 'utf8'), { autoType: false }).objects() as Record<string, string>[];
    const patients = cohort.slice(0, 3).map((p, i): Record<string, string> => ({ ...Object.fromEntries(columns.map((c) => [c, p[c]!])), [study.idColumn!]: `clinic-00${i + 1}` }));
    patients[1]!.sex = 'X';
    const input = join(dir, 'patients.csv');
    writeFileSync(input, toCsv(patients, columns));
    const output = join(dir, 'predictions.csv');

    const r = await fedrxCommand(['predict', '--coordinator', fed.url, '--input', input, '--out', output, '--token', fed.tokens.clinician]);
    // A row that cannot be scored is reported in the file; the command itself succeeds.
    expect(r.code, r.lines.join('\n')).toBe(0);
    expect(r.lines).toContain(`2 of 3 rows scored with model ${trained!.lastModelHash}; 1 could not be scored (see the error column); written to ${output}`);

    // id, prediction, unit, lower, upper, coverage, error_code, error, model_hash: one line per patient, in input order.
    const hash = trained!.lastModelHash;
    const lines = readFileSync(output, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('id,prediction,unit,lower,upper,coverage,error_code,error,model_hash');
    expect(lines[2]).toBe(`clinic-002,,,,,,E_BAD_FEATURE,"column ""sex"": unknown level",${hash}`);
    for (const i of [0, 2]) {
      const scored = lines[i + 1]!.match(new RegExp(`^clinic-00${i + 1},(\\d+(?:\\.\\d+)?),mg/week,([\\d.]+),([\\d.]+),0.9,,,${hash}$`));
      expect(scored, lines[i + 1]).not.toBeNull();
      // The sites' calibration parts gave the model a 90% interval around the dose.
      const [dose, lower, upper] = [scored![1], scored![2], scored![3]].map(Number) as [number, number, number];
      expect(lower).toBeLessThan(dose);
      expect(upper).toBeGreaterThan(dose);
      // The same patient asked one at a time gets the same dose (the CSV keeps two decimals).
      const one = await fed.clients.clinician.predict({ features: patients[i]! });
      expect(one.modelHash).toBe(trained!.lastModelHash);
      expect(Math.abs(Number(scored![1]) - Number(one.prediction))).toBeLessThanOrEqual(0.0051);
    }
  });

  it('sends the coordinator only the model\'s input columns: names, record numbers and notes never leave; a malformed row fails alone', async () => {
    expect(trained, 'needs the run of the previous test').toBeDefined();
    const study = loadStudyFile(STUDY_JSON);
    const inputs = inputColumns(study);
    const cohort = aq.fromCSV(readFileSync(fed.sites[0]!.file, 'utf8'), { autoType: false }).objects() as Record<string, string>[];
    // The clinic's export: its own columns around the model's, in another order; notes with commas, quotes, a line break and 400 characters.
    const header = ['name', 'mrn', ...[...inputs].reverse(), 'notes', study.idColumn!];
    const cells = (p: Record<string, string>, i: number): string[] => [
      `Patient ${i}`, `MRN-${9000 + i}`, ...[...inputs].reverse().map((c) => p[c]!), `"on ""warfarin"", stable,\n${'x'.repeat(400)}"`, `clinic-${i}`,
    ];
    const lines = cohort.slice(0, 4).map((p, i) => cells(p, i + 1).join(','));
    lines[2] = lines[2]!.split(',').slice(0, -1).join(','); // patient 3: one cell short
    const input = join(dir, 'clinic-export.csv');
    writeFileSync(input, [header.join(','), ...lines].join('\n') + '\n');
    const before = (await fed.clients.auditor.auditLog()).entries.length;

    const r = await fedrxCommand(['predict', '--coordinator', fed.url, '--input', input, '--token', fed.tokens.clinician]);
    expect(r.code, r.lines.join('\n')).toBe(0);
    expect(r.lines).toContain(`3 of 4 rows scored with model ${trained!.lastModelHash}; 1 could not be scored (see the error column)`);
    const out = r.lines.filter((l) => l.startsWith('clinic-') || /^\d+,/.test(l));
    expect(out.map((l) => l.split(',')[0])).toEqual(['clinic-1', 'clinic-2', '3', 'clinic-4']);
    expect(out[2]).toBe(`3,,,,,,E_MALFORMED_ROW,"line 6: ${header.length - 1} cells, the header has ${header.length}",${trained!.lastModelHash}`);

    // What the coordinator received, proven by its audit row: the keyed hash of exactly the input
    // columns of the three well-formed rows, in the model's order, and nothing else.
    const entries = (await fed.clients.auditor.auditLog()).entries;
    expect(entries).toHaveLength(before + 1);
    expect(entries.at(-1)).toMatchObject({ route: '/v1/predict/table', rows: 3, modelHash: trained!.lastModelHash });
    const key = readFileSync(join(dirname(fed.db), 'audit.key'));
    const sent = [0, 1, 3].map((i) => inputs.map((c) => tableCell(cohort[i]![c]!)));
    expect(entries.at(-1)!.inputHash).toBe(inputHmac(key, { columns: inputs, rows: sent }));

    // A file without one of the model's columns is refused before anything is sent.
    const lacking = join(dir, 'no-weight.csv');
    writeFileSync(lacking, [header.filter((h) => h !== 'weight_kg').join(','), 'Patient 1,MRN-1'].join('\n'));
    const refused = await fedrxCommand(['predict', '--coordinator', fed.url, '--input', lacking, '--token', fed.tokens.clinician]);
    expect(refused.code).not.toBe(0);
    expect(refused.lines.join('\n')).toContain(`E_CSV_MISSING_COLUMN`);
    expect(refused.lines.join('\n')).toContain(`lacks 1 input column(s) of model ${trained!.lastModelHash}: "weight_kg"; no row was sent`);
    expect((await fed.clients.auditor.auditLog()).entries).toHaveLength(before + 1);
  });

  it('stops a running run with `fedrx run cancel` and lists both runs with `fedrx run list`', async () => {
    expect(trained, 'needs the run of the previous test').toBeDefined();
    const token = fed.tokens['data-scientist'];
    const client = fed.clients['data-scientist'];
    const long = await client.startRun({ rounds: 200, minSites: 2 });
    // Asked to stop once its first training round is committed.
    for (let run = long; !run.rounds.some((r) => r.round === 1); run = await client.run(long.id)) await new Promise((r) => setTimeout(r, 100));
    const cancel = await runFedrx(['run', 'cancel', long.id, '--coordinator', fed.url, '--token', token]);
    expect([cancel.code, cancel.stdout], cancel.stderr).toEqual([0, `run ${long.id} running: asked to stop; its round in flight is dropped and it ends cancelled (see fedrx run status ${long.id})\n`]);
    const ended = await client.follow(long.id, () => {}, 100);
    expect(ended).toMatchObject({ status: 'cancelled', error: null, stopReason: expect.stringMatching(/^cancelled by data-scientist local federation data-scientist \(tok-[0-9a-f]{12}\)$/) });
    const done = ended.rounds.filter((r) => r.round > 0);
    expect(done.length).toBeGreaterThanOrEqual(1);
    expect(done.length).toBeLessThan(200);
    expect(done.every((r) => r.status === 'committed')).toBe(true);
    // One ledger entry per committed round of the cancelled run, and the chain verifies.
    expect((await fed.clients.auditor.ledger()).entries.filter((e) => e.runId === long.id)).toHaveLength(done.length + 1);
    expect(await fed.clients.auditor.verifyLedger()).toMatchObject({ ok: true });

    const list = await runFedrx(['run', 'list', '--coordinator', fed.url], { FEDRX_TOKEN: token });
    expect(list.code, list.stderr).toBe(0);
    const [header, ...rows] = list.stdout.trimEnd().split('\n').map((l) => l.split(/ {2,}/));
    expect(header).toEqual(['id', 'status', 'strategy', 'rounds', 'best', 'created (UTC)', 'ended (UTC)', 'error / stop reason']);
    const best = (b: number | null): string => (b === null ? '–' : String(b));
    expect(rows.map((r) => [r[0], r[1], r[2], r[3], r[4]])).toEqual([
      [long.id, 'cancelled', 'fedavg', `${done.length}/200`, best(ended.bestRound)],
      [trained!.runId, 'completed', 'fedadam', '2/2', best((await client.run(trained!.runId)).bestRound)],
    ]);
    expect(rows[0]![7]).toBe(ended.stopReason);

    const again = await runFedrx(['run', 'cancel', long.id, '--coordinator', fed.url, '--token', token]);
    expect([again.code, again.stderr]).toEqual([1, `error E_RUN_FINISHED: run ${long.id} has already ended (cancelled): nothing to cancel\n`]);
  });
});

describe('an agent whose CSV holds an out-of-range value', () => {
  it('refuses the statistics with E_CSV_BAD_VALUE naming the column; with --drop-bad-rows the same file is accepted', async () => {
    const dir = tmp('cli-bad-value');
    // Both sites read one file whose third patient weighs 999 kg (line 4, counting the header); site-2 drops such rows.
    const bad = join(dir, 'weight-999.csv');
    let fileRows = 0;
    const fed = await startFederation(dir, {
      sites: 2,
      patients: 160,
      extraAgentArgs: { 'site-2': ['--drop-bad-rows'] },
      dataFiles: (sites) => {
        const csv = readCsvRows(sites[0]!.file);
        csv.rows[2]![csv.header.indexOf('weight_kg')] = '999';
        writeCsvRows(bad, csv.header, csv.rows);
        fileRows = csv.rows.length;
        return { 'site-1': bad, 'site-2': bad };
      },
    });
    federations.push(fed);

    const start = fedrx('run-start-bad', ['run', 'start', '--coordinator', fed.url, '--rounds', '1', '--min-sites', '2', '--wait', '--token', fed.tokens['data-scientist']]);
    // Only one site's statistics arrive, so the run fails at round 0 and the command says so.
    expect(await start.exited, start.lines.join('\n')).toBe(1);
    const runId = start.lines.map((l) => l.match(/^run (\S+) failed: /)?.[1]).find((x) => x !== undefined);
    expect(runId, start.lines.join('\n')).toBeDefined();
    expect(start.lines.at(-1)).toBe(`run ${runId} failed: E_ROUND_FAILED: statistics: 1 of the 2 statistics reports needed: 1 refused or failed (site-1: E_CSV_BAD_VALUE)`);

    const run = await fed.clients['data-scientist'].run(runId!);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/site-1: E_CSV_BAD_VALUE/);
    expect(run.rounds).toHaveLength(1);
    const [refused, accepted] = run.rounds[0]!.sites;
    expect(refused).toMatchObject({ siteId: 'site-1', status: 'failed', code: 'E_CSV_BAD_VALUE' });
    expect(refused!.reason).toMatch(/^site CSV weight-999\.csv does not fit study synthetic-warfarin: column "weight_kg": 1 row out of range \(line 4\)\. .*--drop-bad-rows/);
    expect(accepted).toMatchObject({ siteId: 'site-2', status: 'accepted' });
    expect((await fed.clients.auditor.ledger()).entries).toEqual([]);

    // Each agent's log says what it did with the file.
    await fed.agents.get('site-1')!.waitFor(/statistics refused: E_CSV_BAD_VALUE .*column "weight_kg": 1 row out of range \(line 4\)/, 5000);
    const kept = await fed.agents.get('site-2')!.waitFor(/site data for study synthetic-warfarin: (\d+) rows, (\d+) train, \d+ held out, dropped (\{.*\})/, 5000);
    expect([Number(kept[1]), kept[3]]).toEqual([fileRows, '{"weight_kg:out-of-range":1}']);
    expect(accepted!.numExamples).toBe(Number(kept[2]));
  });
});
