// `fedrx study init`: a first study drafted from one site's CSV, for a person to read and edit.
// Each column's kind is inferred from its cells (numeric, 0/1 binary, categorical with its
// levels, or left out with a reason); columns sharing a name prefix (`expr_`, `mut_`, …: any
// prefix ending in _ . : or -) become one feature group selected by pattern, so thousands of
// gene columns take a line. Pure: the summary holds column names and counts, never a cell.

import type { CsvReader } from './csv.js';
import { FedrxError } from './errors.js';
import { isMissing, parseDecimal } from './extract.js';
import type { ModelSpec } from './model-spec.js';
import { DEFAULT_MIN_ROWS, MAX_STUDY_FEATURES, type Feature, type FeatureGroup, type Study } from './study.js';

/** Text columns with more distinct values than this are left out rather than made categories. */
export const MAX_DRAFT_LEVELS = 12;
/** Fewest columns sharing a prefix that make a group (fewer are listed by name). */
export const MIN_GROUP_COLUMNS = 5;
/** Inputs at or above this share of the rows call for a penalised model. */
const WIDE_RATIO = 0.5;

export interface DraftOptions {
  target: string;
  idColumn?: string;
  ignore?: readonly string[];
  task?: 'regression' | 'classification';
  name: string;
  seed?: number;
}

/** What one pass over a column's cells found. */
interface ColumnProfile {
  name: string;
  missing: number;
  numeric: number;
  text: number;
  min: number;
  max: number;
  /** Distinct numbers seen, up to 3 (enough to tell constant and 0/1 columns). */
  numbers: Set<number>;
  /** Text columns: distinct non-missing cells, while there are at most `TRACKED` of them (else null). */
  values: Map<string, number> | null;
}

const TRACKED = 1000;

export interface LeftOut {
  column: string;
  reason: string;
}

export interface DraftSummary {
  file: string;
  rows: number;
  columns: number;
  /** Model inputs the draft expands to on this CSV. */
  inputs: number;
  kinds: { numeric: number; binary: number; categorical: number };
  groups: { match: string; kind: FeatureGroup['kind']; columns: number; constant: number; withMissing: number }[];
  named: number;
  leftOut: LeftOut[];
  /** Columns holding one value at this site (kept when a group takes them: a run drops columns constant at every site). */
  constant: string[];
  idColumn: string | undefined;
  model: ModelSpec;
  modelWhy: string;
}

export function profileColumns(csv: CsvReader): { rows: number; profiles: ColumnProfile[] } {
  const profiles: ColumnProfile[] = csv.header.map((name) => ({
    name,
    missing: 0,
    numeric: 0,
    text: 0,
    min: Infinity,
    max: -Infinity,
    numbers: new Set(),
    values: null,
  }));
  let rows = 0;
  csv.forEach((cells) => {
    rows++;
    for (let i = 0; i < cells.length; i++) {
      const p = profiles[i]!;
      const cell = cells[i]!;
      if (isMissing(cell)) {
        p.missing++;
        continue;
      }
      const x = parseDecimal(cell);
      if (Number.isNaN(x)) {
        p.text++;
        continue;
      }
      p.numeric++;
      if (x < p.min) p.min = x;
      if (x > p.max) p.max = x;
      if (p.numbers.size < 3) p.numbers.add(x);
    }
  });
  // Second pass, text columns only: their distinct cells (a wide numeric panel costs nothing here).
  const textual = profiles.flatMap((p, i) => (p.text > 0 ? [i] : []));
  for (const i of textual) profiles[i]!.values = new Map();
  if (textual.length > 0) {
    csv.forEach((cells) => {
      for (const i of textual) {
        const p = profiles[i]!;
        const cell = cells[i]!;
        if (p.values === null || isMissing(cell)) continue;
        const key = cell.trim();
        p.values.set(key, (p.values.get(key) ?? 0) + 1);
        if (p.values.size > TRACKED) p.values = null;
      }
    });
  }
  return { rows, profiles };
}

type Kind = 'numeric' | 'binary' | 'categorical';
const present = (p: ColumnProfile): number => p.numeric + p.text;
const distinct = (p: ColumnProfile): number => (p.text > 0 ? (p.values?.size ?? TRACKED + 1) : p.numbers.size);
const isConstantColumn = (p: ColumnProfile): boolean => present(p) > 0 && distinct(p) === 1;
const isBinaryValued = (p: ColumnProfile): boolean => p.text === 0 && [...p.numbers].every((x) => x === 0 || x === 1);

/** The prefix a column shares with its family: up to and including the first _ . : or - (not at the start). */
export function namePrefix(column: string): string | null {
  const m = /^[^_.:-]+[_.:-]/u.exec(column);
  return m !== null && m[0].length < column.length ? m[0] : null;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/gu, '\\$&');

/** Rounds outward to a step of about a tenth of `scale`: 0.37 → 0.4, 1234 → 1300. */
function outward(x: number, scale: number, up: boolean): number {
  const step = 10 ** Math.floor(Math.log10(Math.max(scale, 1e-9)));
  const r = (up ? Math.ceil(x / step) : Math.floor(x / step)) * step;
  return Number(r.toPrecision(12));
}

/**
 * The observed range widened by itself on each side. Not clamped at 0: one site's range says
 * little of another's (a log IC50 positive at one site is negative at the next), and a bound too
 * tight refuses a whole hospital, while a loose one only misses gross errors.
 */
export function widenedRange(min: number, max: number): { min: number; max: number } {
  const span = max - min || Math.abs(max) || 1;
  return { min: outward(min - span, span, false), max: outward(max + span, span, true) };
}

export function draftStudy(csv: CsvReader, file: string, opts: DraftOptions): { study: Study; summary: DraftSummary } {
  const { rows, profiles } = profileColumns(csv);
  const byName = new Map(profiles.map((p) => [p.name, p]));
  const target = byName.get(opts.target);
  if (target === undefined) throw new FedrxError('E_BAD_REQUEST', `${file} has no column "${opts.target}" (the --target)`);
  if (opts.idColumn !== undefined && !byName.has(opts.idColumn)) throw new FedrxError('E_BAD_REQUEST', `${file} has no column "${opts.idColumn}" (the --id)`);
  for (const c of opts.ignore ?? []) if (!byName.has(c)) throw new FedrxError('E_BAD_REQUEST', `${file} has no column "${c}" (in --ignore)`);
  if (present(target) === 0) throw new FedrxError('E_BAD_REQUEST', `the target column "${opts.target}" is empty in ${file}`);

  const leftOut: LeftOut[] = [];
  const constant: string[] = [];
  const ignored = new Set(opts.ignore ?? []);
  const targetPrefix = namePrefix(opts.target);
  let idColumn = opts.idColumn;

  // 1. Each column's kind, or why it is left out.
  const kindOf = new Map<string, Kind>();
  for (const p of profiles) {
    if (p.name === opts.target || p.name === idColumn) continue;
    const out = (reason: string): void => void leftOut.push({ column: p.name, reason });
    if (ignored.has(p.name)) out('ignored (--ignore)');
    else if (present(p) === 0) out('empty in every row');
    else if (targetPrefix !== null && namePrefix(p.name) === targetPrefix) out(`shares the target's prefix "${targetPrefix}": another outcome, not an input`);
    else if (p.text > 0) {
      const d = distinct(p);
      if (d === 1) {
        constant.push(p.name);
        out('one value in every row');
      } else if (d === present(p) && present(p) === rows) {
        if (idColumn === undefined) idColumn = p.name;
        else out('a different value in every row: an identifier, not an input');
      } else if (d > MAX_DRAFT_LEVELS) out(`text with ${d > TRACKED ? `over ${TRACKED}` : d} distinct values: too many levels for a category (at most ${MAX_DRAFT_LEVELS})`);
      else kindOf.set(p.name, 'categorical');
    } else {
      if (isConstantColumn(p)) constant.push(p.name);
      kindOf.set(p.name, isBinaryValued(p) && p.numbers.size === 2 ? 'binary' : 'numeric');
    }
  }

  // 2. Families of columns sharing a prefix become groups when they can share one kind.
  const families = new Map<string, string[]>();
  for (const p of profiles) {
    const prefix = namePrefix(p.name);
    if (prefix !== null) families.set(prefix, [...(families.get(prefix) ?? []), p.name]);
  }
  const grouped = new Set<string>();
  const groups: FeatureGroup[] = [];
  const groupNotes: DraftSummary['groups'] = [];
  for (const [prefix, members] of families) {
    // A pattern takes every column with the prefix, so all of them must be inputs of one kind
    // (the target and the id column are never taken by a group).
    const inputs = members.filter((c) => c !== opts.target && c !== idColumn);
    if (inputs.length < MIN_GROUP_COLUMNS || !inputs.every((c) => kindOf.has(c) && kindOf.get(c) !== 'categorical')) continue;
    const ps = inputs.map((c) => byName.get(c)!);
    const kind = ps.every(isBinaryValued) ? 'binary' : 'numeric';
    const withMissing = ps.filter((p) => p.missing > 0).length;
    const match = `^${escapeRegExp(prefix)}`;
    groups.push(kind === 'binary' ? { kind, match, ...(withMissing > 0 ? { missing: 'false' as const } : {}) } : { kind, match, ...(withMissing > 0 ? { missing: 'mean' as const } : {}) });
    groupNotes.push({ match, kind, columns: inputs.length, constant: ps.filter(isConstantColumn).length, withMissing });
    for (const c of inputs) grouped.add(c);
  }

  // 3. The rest by name; a constant column outside a group carries nothing and is left out.
  const features: Feature[] = [];
  for (const p of profiles) {
    const kind = kindOf.get(p.name);
    if (kind === undefined || grouped.has(p.name)) continue;
    if (isConstantColumn(p)) {
      leftOut.push({ column: p.name, reason: 'one value in every row' });
      continue;
    }
    features.push(namedFeature(p, kind));
  }
  if (features.length > MAX_STUDY_FEATURES) {
    throw new FedrxError('E_BAD_REQUEST', 
      `${features.length} columns share no prefix with ${MIN_GROUP_COLUMNS - 1} others; a study lists at most ${MAX_STUDY_FEATURES} by name. Rename them with a common prefix (e.g. expr_), or use --ignore`,
    );
  }
  if (features.length === 0 && groups.length === 0) throw new FedrxError('E_BAD_REQUEST', `${file} has no column usable as an input`);

  const inputs = grouped.size + features.reduce((n, f) => n + (f.kind === 'categorical' ? f.levels.length - 1 : 1), 0);
  const task = opts.task ?? (target.text === 0 && target.numbers.size > 2 ? 'regression' : 'classification');
  const wide = inputs >= WIDE_RATIO * present(target);
  const model: ModelSpec = wide ? { type: 'linear', l2: 'auto' } : { type: 'linear' };
  const modelWhy = wide
    ? `${inputs} inputs for ${present(target)} rows with a target: a penalised linear model, the penalty chosen by federated validation`
    : `${inputs} inputs for ${present(target)} rows with a target: a plain linear model`;
  const study: Study = {
    name: opts.name,
    task,
    ...(idColumn === undefined ? {} : { idColumn }),
    features,
    ...(groups.length > 0 ? { groups } : {}),
    target: task === 'regression' ? regressionTarget(target) : classificationTarget(target),
    model,
    metrics: task === 'regression' ? ['rmse', 'mae', 'r2'] : ['accuracy'],
    holdout: { fraction: 0.2, seed: opts.seed ?? 1 },
    minRows: DEFAULT_MIN_ROWS,
  };
  const count = (k: Kind): number =>
    features.filter((f) => f.kind === k).length + groupNotes.filter((g) => g.kind === k).reduce((n, g) => n + g.columns, 0);
  const summary: DraftSummary = {
    file,
    rows,
    columns: profiles.length,
    inputs,
    kinds: { numeric: count('numeric'), binary: count('binary'), categorical: count('categorical') },
    groups: groupNotes,
    named: features.length,
    leftOut,
    constant,
    idColumn,
    model,
    modelWhy,
  };
  return { study, summary };
}

function namedFeature(p: ColumnProfile, kind: Kind): Feature {
  if (kind === 'binary') return { kind, name: p.name, ...(p.missing > 0 ? { missing: 'false' as const } : {}) };
  if (kind === 'categorical') {
    // Most frequent level first: it is the reference level.
    const levels = [...p.values!].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([v]) => v);
    return p.missing > 0 ? { kind, name: p.name, levels: [...levels, 'missing'], missingLevel: 'missing' } : { kind, name: p.name, levels };
  }
  return { kind, name: p.name, ...widenedRange(p.min, p.max), ...(p.missing > 0 ? { missing: 'mean' as const } : {}) };
}

function regressionTarget(p: ColumnProfile): Study['target'] {
  if (p.text > 0) throw new FedrxError('E_BAD_REQUEST', `the target "${p.name}" holds text: use --task classification`);
  // A positive target spanning three orders of magnitude is modelled on the log scale.
  const log = p.min > 0 && p.max / p.min >= 1000;
  const range = widenedRange(p.min, p.max);
  return { name: p.name, transform: log ? 'log' : 'identity', ...(log ? { min: Number((p.min / 10).toPrecision(2)), max: range.max } : range) };
}

function classificationTarget(p: ColumnProfile): Study['target'] {
  // A numeric target is a class label only with two values (0/1 outcomes); text gives its levels.
  if (p.text === 0 && p.numbers.size > 2) throw new FedrxError('E_BAD_REQUEST', `the target "${p.name}" is numeric with more than two values: use --task regression`);
  const classes = p.text === 0 ? [...p.numbers].sort((a, b) => a - b).map(String) : p.values === null ? [] : [...p.values.keys()].sort();
  if (classes.length < 2 || classes.length > 256) throw new FedrxError('E_BAD_REQUEST', `the target "${p.name}" has ${p.values === null ? `over ${TRACKED}` : classes.length} distinct values: a classification target needs 2 to 256 classes (or use --task regression)`);
  return { name: p.name, classes };
}
