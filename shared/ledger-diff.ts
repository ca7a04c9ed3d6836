// Where two copies of the ledger (a site's replica and the coordinator's table) part ways: the
// common prefix, the first entry that differs and which of its fields differ.

import type { LedgerEntry } from './ledger.js';

export interface FieldDifference {
  field: string;
  left: string;
  right: string;
}

export interface ChainDiff {
  leftLength: number;
  rightLength: number;
  /** Entries 0..commonPrefix-1 are identical (same entry hash). */
  commonPrefix: number;
  /** The first index held by both that differs, with its differing fields; null if none. */
  firstDifference: { index: number; fields: FieldDifference[] } | null;
  /** True when one chain is a prefix of the other: they agree, one is only behind. */
  consistent: boolean;
}

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v) ?? 'undefined');

export function diffChains(left: readonly LedgerEntry[], right: readonly LedgerEntry[]): ChainDiff {
  const both = Math.min(left.length, right.length);
  let i = 0;
  while (i < both && left[i]!.entryHash === right[i]!.entryHash) i++;
  let firstDifference: ChainDiff['firstDifference'] = null;
  if (i < both) {
    const a = left[i]! as unknown as Record<string, unknown>;
    const b = right[i]! as unknown as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    const fields = keys.filter((k) => show(a[k]) !== show(b[k])).map((k) => ({ field: k, left: show(a[k]), right: show(b[k]) }));
    firstDifference = { index: i, fields };
  }
  return { leftLength: left.length, rightLength: right.length, commonPrefix: i, firstDifference, consistent: firstDifference === null };
}
