// bench:robust's table and verdict, from the measured MAEs. Pure, so the wording is tested.

export interface RobustCell {
  strategy: string;
  /** null: the clean run, no hostile site. */
  attack: string | null;
  /** Share of sites hostile, e.g. 0.2. */
  fraction: number;
  hostile: number;
  mae: number;
}

/** The goal's tolerance: the best robust strategy within 5% of the clean MAE. */
export const GOAL_TOLERANCE = 0.05;

const pct = (mae: number, clean: number): string => {
  const d = ((mae / clean - 1) * 100).toFixed(1);
  return `${d.startsWith('-') ? '−' + d.slice(1) : '+' + d}%`;
};

function find(cells: readonly RobustCell[], strategy: string, attack: string | null, fraction: number): RobustCell | undefined {
  return cells.find((c) => c.strategy === strategy && c.attack === attack && (attack === null || c.fraction === fraction));
}

/**
 * Rows: the clean run, then each attack at each hostile share; columns: strategies. Each cell is
 * the held-out MAE and its change against `reference`'s clean MAE (FedAvg with no hostile site).
 */
export function robustTable(cells: readonly RobustCell[], strategies: readonly string[], attacks: readonly string[], fractions: readonly number[], reference: string): string {
  const clean = find(cells, reference, null, 0)?.mae;
  if (clean === undefined) throw new Error(`no clean ${reference} run to compare with`);
  const cell = (c: RobustCell | undefined): string => (c === undefined ? '–' : `${c.mae.toFixed(2)} (${pct(c.mae, clean)})`);
  const lines = [`| hostile sites | attack | ${strategies.join(' | ')} |`, `|---|---|${strategies.map(() => '---').join('|')}|`];
  lines.push(`| none | – | ${strategies.map((s) => cell(find(cells, s, null, 0))).join(' | ')} |`);
  for (const fraction of fractions.filter((f) => f > 0)) {
    for (const attack of attacks) {
      const row = strategies.map((s) => find(cells, s, attack, fraction));
      const count = row.find((c) => c !== undefined)?.hostile;
      lines.push(`| ${Math.round(fraction * 100)}%${count === undefined ? '' : ` (${count})`} | ${attack} | ${row.map(cell).join(' | ')} |`);
    }
  }
  return lines.join('\n');
}

/**
 * The goal at `fraction` hostile, per attack: the best of `robust` within GOAL_TOLERANCE of the
 * clean `reference` MAE, while `reference` itself degrades by more than that.
 */
export function goalVerdict(cells: readonly RobustCell[], robust: readonly string[], attacks: readonly string[], fraction: number, reference: string): { lines: string[]; holds: boolean; met: number } {
  const clean = find(cells, reference, null, 0)?.mae;
  if (clean === undefined) throw new Error(`no clean ${reference} run to compare with`);
  let met = 0;
  const lines = attacks.map((attack) => {
    const best = robust.map((s) => find(cells, s, attack, fraction)).filter((c): c is RobustCell => c !== undefined).sort((a, b) => a.mae - b.mae)[0];
    const ref = find(cells, reference, attack, fraction);
    if (best === undefined || ref === undefined) return `${attack}: not measured`;
    const within = best.mae <= clean * (1 + GOAL_TOLERANCE);
    const degrades = ref.mae > clean * (1 + GOAL_TOLERANCE);
    if (within && degrades) met++;
    return (
      `${attack}: best robust ${best.strategy} ${best.mae.toFixed(2)} (${pct(best.mae, clean)}), ${within ? 'within' : 'NOT within'} ${GOAL_TOLERANCE * 100}%; ` +
      `${reference} ${ref.mae.toFixed(2)} (${pct(ref.mae, clean)}), ${degrades ? 'degrades' : `does not degrade beyond ${GOAL_TOLERANCE * 100}%`}`
    );
  });
  return { lines, holds: met === attacks.length, met };
}
