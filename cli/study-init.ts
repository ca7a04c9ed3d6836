// `fedrx study init`: drafts a study from one site's CSV (shared/study-draft.ts), writes it as
// commented YAML for a person to read and edit, and prints what it decided and why.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { stringify } from 'yaml';
import { readCsv } from '../shared/csv.js';
import { FedrxError } from '../shared/errors.js';
import { checkStudy } from '../shared/load-study.js';
import { draftStudy, type DraftSummary } from '../shared/study-draft.js';
import type { Study } from '../shared/study.js';

export interface StudyInitOptions {
  data: string;
  target: string;
  id?: string;
  ignore?: string;
  task?: 'regression' | 'classification';
  out: string;
  name?: string;
  seed?: string;
  force?: boolean;
}

const flow = (v: unknown): string => stringify(v, { collectionStyle: 'flow', lineWidth: 0 }).trim();
const LEFT_OUT_LISTED = 12;

/** The study as YAML, one feature or group per line, with comments saying where each choice came from. */
export function studyYaml(study: Study, s: DraftSummary): string {
  const lines = [
    `# Drafted by \`fedrx study init\` from ${s.file} (${s.rows} rows, ${s.columns} columns). Read it and edit freely.`,
    `name: ${flow(study.name)}`,
    `task: ${study.task}`,
  ];
  if (study.idColumn !== undefined) lines.push(`# names rows in batch predictions; never an input`, `idColumn: ${flow(study.idColumn)}`);
  lines.push(`# ${s.inputs} model inputs on this CSV: ${s.kinds.numeric} numeric, ${s.kinds.binary} binary (0/1), ${s.kinds.categorical} categorical`);
  if (study.features.length === 0) lines.push('features: []');
  else {
    lines.push('features:');
    for (const f of study.features) lines.push(`  - ${flow(f)}`);
  }
  if (study.groups !== undefined) {
    lines.push('# Feature groups: every column a pattern matches, expanded by the run at round 0 (sorted; columns');
    lines.push('# missing at some site or constant at every site are left out and recorded).');
    lines.push('groups:');
    study.groups.forEach((g, i) => {
      const n = s.groups[i]!;
      const notes = [`${n.columns} columns here`, n.withMissing > 0 ? `${n.withMissing} with empty cells` : '', n.constant > 0 ? `${n.constant} constant here` : ''].filter(Boolean);
      lines.push(`  # ${notes.join(', ')}`, `  - ${flow(g)}`);
    });
  }
  const t = study.target;
  lines.push(
    'transform' in t ? `# range seen here, widened; transform ${t.transform === 'identity' ? 'left as identity' : `${t.transform}: the values span three orders of magnitude`}` : '# classes seen here',
    `target: ${flow(t)}`,
    `# ${s.modelWhy}`,
    `model: ${flow(study.model)}`,
    `metrics: ${flow(study.metrics)}`,
    `# each site holds out a seeded share of its rows for evaluation`,
    `holdout: ${flow(study.holdout)}`,
    `# a site with fewer training rows reports nothing`,
    `minRows: ${study.minRows}`,
  );
  if (s.leftOut.length > 0) {
    lines.push(`# Left out (${s.leftOut.length} columns):`);
    for (const [reason, columns] of byReason(s.leftOut)) lines.push(`#   ${reason}: ${listed(columns)}`);
  }
  return `${lines.join('\n')}\n`;
}

function byReason(leftOut: DraftSummary['leftOut']): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const { column, reason } of leftOut) m.set(reason, [...(m.get(reason) ?? []), column]);
  return m;
}

const listed = (columns: string[]): string =>
  columns.slice(0, LEFT_OUT_LISTED).join(', ') + (columns.length > LEFT_OUT_LISTED ? ` and ${columns.length - LEFT_OUT_LISTED} more` : '');

export function summaryLines(study: Study, s: DraftSummary, out: string): string[] {
  const lines = [
    `${s.file}: ${s.rows} rows, ${s.columns} columns → ${s.inputs} model inputs (${study.task}, target ${study.target.column ?? study.target.name})`,
    `  kinds:     ${s.kinds.numeric} numeric, ${s.kinds.binary} binary, ${s.kinds.categorical} categorical`,
    `  groups:    ${s.groups.length === 0 ? 'none' : s.groups.map((g) => `/${g.match}/ ${g.kind} ×${g.columns}`).join(', ')}`,
    `  by name:   ${s.named} features`,
    `  id column: ${s.idColumn ?? 'none'}`,
    `  model:     ${flow(s.model)} (${s.modelWhy})`,
    `  constant:  ${s.constant.length === 0 ? 'none' : `${s.constant.length} (${listed(s.constant)})`}`,
  ];
  if (s.leftOut.length === 0) lines.push('  left out:  none');
  else {
    lines.push(`  left out:  ${s.leftOut.length} columns`);
    for (const [reason, columns] of byReason(s.leftOut)) lines.push(`    ${reason}: ${listed(columns)}`);
  }
  lines.push(`wrote ${out}`);
  return lines;
}

export function studyInit(o: StudyInitOptions): void {
  if (o.task !== undefined && o.task !== 'regression' && o.task !== 'classification') {
    throw new FedrxError('E_BAD_REQUEST', '--task must be regression or classification');
  }
  if (existsSync(o.out) && o.force !== true) throw new FedrxError('E_BAD_REQUEST', `${o.out} exists; pass --force to overwrite it`);
  const file = basename(o.data);
  const csv = readCsv(readFileSync(o.data, 'utf8'), file);
  const seed = o.seed === undefined ? undefined : Number(o.seed);
  if (seed !== undefined && !Number.isSafeInteger(seed)) throw new FedrxError('E_BAD_REQUEST', '--seed must be an integer');
  const name = o.name ?? (basename(o.data, extname(o.data)).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 128) || 'study');
  const { study, summary } = draftStudy(csv, file, {
    target: o.target,
    name,
    ...(o.id === undefined ? {} : { idColumn: o.id }),
    ...(o.ignore === undefined ? {} : { ignore: o.ignore.split(',').map((c) => c.trim()).filter(Boolean) }),
    ...(o.task === undefined ? {} : { task: o.task }),
    ...(seed === undefined ? {} : { seed }),
  });
  checkStudy(study, 'drafted study'); // what is written must load
  writeFileSync(o.out, studyYaml(study, summary));
  for (const line of summaryLines(study, summary, o.out)) console.log(line);
}
