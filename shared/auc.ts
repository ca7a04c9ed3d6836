// Area under the ROC curve from sums the sites can share: each site counts its held-out rows by
// true class and by bin of predicted probability; the counts add across sites, and the AUC of
// the pooled rows follows from the totals. No score of any patient leaves its site.
//
// Precision: a positive and a negative that fall in the same bin count as half a win (the
// trapezoid rule), so the result differs from the exact AUC by at most half the share of
// positive–negative pairs that share a bin (`aucTieShare`), and equals it when none do.
// With 1,000 bins of width 0.001 that share is small unless the scores pile up in a few bins.
//
// Two classes: one curve, the second class as positive. More: one curve per class against the
// rest, and the AUC reported is their unweighted (macro) mean. Pure, except `countInto`, which
// fills the accumulator it is given (a site's running counts).

export const AUC_BINS = 1000;
/** Above this many classes, one-vs-rest histograms would outgrow an evaluation message. */
export const MAX_AUC_CLASSES = 16;

/** Per curve, counts of positive and negative rows in each probability bin. */
export interface AucCounts {
  pos: number[][];
  neg: number[][];
}

export const aucCurves = (classes: number): number => (classes === 2 ? 1 : classes);

export function emptyAucCounts(classes: number): AucCounts {
  const zeros = (): number[][] => Array.from({ length: aucCurves(classes) }, () => new Array<number>(AUC_BINS).fill(0));
  return { pos: zeros(), neg: zeros() };
}

const binOf = (p: number): number => Math.min(AUC_BINS - 1, Math.max(0, Math.floor(p * AUC_BINS)));

/** Adds one row: its class probabilities and its true class index. Mutates `counts`. */
export function countInto(counts: AucCounts, probs: readonly number[], trueClass: number): void {
  const add = (table: number[][], curve: number, p: number): void => {
    const row = table[curve]!;
    const b = binOf(p);
    row[b] = row[b]! + 1;
  };
  if (probs.length === 2) add(trueClass === 1 ? counts.pos : counts.neg, 0, probs[1]!);
  else probs.forEach((p, c) => add(trueClass === c ? counts.pos : counts.neg, c, p));
}

/** Counts over the union of two disjoint sets of rows (a new object). */
export function mergeAucCounts(a: Readonly<AucCounts>, b: Readonly<AucCounts>): AucCounts {
  const add = (x: number[][], y: number[][]): number[][] => x.map((row, c) => row.map((v, i) => v + y[c]![i]!));
  return { pos: add(a.pos, b.pos), neg: add(a.neg, b.neg) };
}

/** Wins (ties as halves), pairs and same-bin pairs of one curve. */
function curve(pos: readonly number[], neg: readonly number[]): { wins: number; pairs: number; ties: number } {
  let negBelow = 0;
  let wins = 0;
  let ties = 0;
  let nPos = 0;
  for (let b = 0; b < pos.length; b++) {
    wins += pos[b]! * (negBelow + neg[b]! / 2);
    ties += pos[b]! * neg[b]!;
    negBelow += neg[b]!;
    nPos += pos[b]!;
  }
  return { wins, pairs: nPos * negBelow, ties };
}

/** Curves that have both a positive and a negative row (an AUC is undefined without either). */
const definedCurves = (c: Readonly<AucCounts>) => c.pos.map((p, i) => curve(p, c.neg[i]!)).filter((k) => k.pairs > 0);

/** The AUC (macro mean over classes for more than two); NaN when no curve has both kinds of row. */
export function aucFromCounts(c: Readonly<AucCounts>): number {
  const curves = definedCurves(c);
  return curves.length === 0 ? Number.NaN : curves.reduce((s, k) => s + k.wins / k.pairs, 0) / curves.length;
}

/** Share of positive–negative pairs in the same bin: the AUC is within half of it of the exact value. */
export function aucTieShare(c: Readonly<AucCounts>): number {
  const curves = definedCurves(c);
  return curves.length === 0 ? Number.NaN : curves.reduce((s, k) => s + k.ties / k.pairs, 0) / curves.length;
}

/** Whether counts have the shape a study of `classes` classes needs (sites' sums are attacker-controlled). */
export function aucCountsFit(c: Readonly<AucCounts>, classes: number): boolean {
  const ok = (m: number[][]): boolean => m.length === aucCurves(classes) && m.every((row) => row.length === AUC_BINS);
  return ok(c.pos) && ok(c.neg);
}
