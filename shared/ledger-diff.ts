// Where two copies of the ledger (a site's replica and the coordinator's table) part ways: the
// common prefix, the first entry that differs and which of its fields differ.

import { canonicalJson } from './canonical-json.js';
import type { LedgerEntry } from './ledger.js';

export interface FieldDifference {
  field: string;
  left: string;
  right: string;
}

export interface ChainDiff {
  leftLength: number;
  rightLength: number;
  /** Entries 0..commonPrefix-1 are identical, field for field. */
  commonPrefix: number;
  /** The first index held by both that differs, with its differing fields; null if none. */
  firstDifference: { index: number; fields: FieldDifference[] } | null;
  /** True when one chain is a prefix of the other: they agree, one is only behind. */
  consistent: boolean;
}

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v) ?? 'undefined');

/** Differing fields, one level into objects and arrays (`metrics.mae`, `participants[1]`), so a reader sees what changed. */
function fieldDifferences(a: Record<string, unknown>, b: Record<string, unknown>, prefix = ''): FieldDifference[] {
  const out: FieldDifference[] = [];
  for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])]) {
    const [x, y] = [a[k], b[k]];
    if (show(x) === show(y)) continue;
    const name = `${prefix}${k}`;
    if (prefix === '' && Array.isArray(x) && Array.isArray(y)) {
      const n = Math.max(x.length, y.length);
      for (let i = 0; i < n; i++) if (show(x[i]) !== show(y[i])) out.push({ field: `${name}[${i}]`, left: show(x[i]), right: show(y[i]) });
    } else if (prefix === '' && isObject(x) && isObject(y)) {
      out.push(...fieldDifferences(x, y, `${name}.`));
    } else out.push({ field: name, left: show(x), right: show(y) });
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whole entries are compared, not their entry hashes: a row edited without recomputing its hash is a difference too. */
const sameEntry = (a: LedgerEntry, b: LedgerEntry): boolean => canonicalJson(a) === canonicalJson(b);

export function diffChains(left: readonly LedgerEntry[], right: readonly LedgerEntry[]): ChainDiff {
  const both = Math.min(left.length, right.length);
  let i = 0;
  while (i < both && sameEntry(left[i]!, right[i]!)) i++;
  let firstDifference: ChainDiff['firstDifference'] = null;
  if (i < both) {
    const a = left[i]! as unknown as Record<string, unknown>;
    const b = right[i]! as unknown as Record<string, unknown>;
    firstDifference = { index: i, fields: fieldDifferences(a, b) };
  }
  return { leftLength: left.length, rightLength: right.length, commonPrefix: i, firstDifference, consistent: firstDifference === null };
}
