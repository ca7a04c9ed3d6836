// Tables that point at ledger entries: a committed round names its entry, endorsements and the
// prediction audit log name indexes, every stored model was committed by an entry. When the
// ledger's tail is deleted these rows still point at it, so each one is checked against the
// ledger. Disputes are not: a site may dispute an entry the coordinator does not hold.

import type { Db } from './db.js';

export interface ReferenceProblem {
  /** The ledger index the row refers to (for a model without an entry: the ledger's length). */
  index: number;
  reason: string;
}

const LIMIT = 100; // rows reported per kind: enough to show what is missing, bounded for a huge table

const hasTable = (db: Db, name: string): boolean => db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;

/** Every row of another table that points at an entry the ledger lacks or that says otherwise; ordered by index. */
export function referenceProblems(db: Db): ReferenceProblem[] {
  const out: ReferenceProblem[] = [];
  const length = ((db.prepare('SELECT MAX(idx) AS m FROM ledger').get() as { m: number | null }).m ?? -1) + 1;
  const rounds = db
    .prepare(
      `SELECT r.run_id, r.round, r.ledger_index, r.model_hash, l.idx AS found FROM rounds r LEFT JOIN ledger l ON l.idx = r.ledger_index
       WHERE r.status = 'committed' AND (l.idx IS NULL OR l.run_id != r.run_id OR l.round != r.round OR l.model_hash IS NOT r.model_hash)
       ORDER BY r.ledger_index LIMIT ${LIMIT}`,
    )
    .all() as { run_id: string; round: number; ledger_index: number | null; model_hash: string | null; found: number | null }[];
  for (const r of rounds) {
    const what = `the rounds table records run ${r.run_id} round ${r.round} as committed at entry ${r.ledger_index ?? 'none'}`;
    out.push({ index: r.ledger_index ?? length, reason: r.found === null ? `${what}, which the ledger lacks` : `${what}, which records another run, round or model` });
  }
  const endorsed = db
    .prepare(
      `SELECT entry_index, COUNT(*) AS n FROM endorsements e WHERE NOT EXISTS (SELECT 1 FROM ledger l WHERE l.idx = e.entry_index)
       GROUP BY entry_index ORDER BY entry_index LIMIT ${LIMIT}`,
    )
    .all() as { entry_index: number; n: number }[];
  for (const e of endorsed) out.push({ index: e.entry_index, reason: `${e.n} endorsement(s) of entry ${e.entry_index} are stored, but the ledger lacks the entry` });
  const models = db
    .prepare(`SELECT hash, run_id, round FROM models m WHERE NOT EXISTS (SELECT 1 FROM ledger l WHERE l.model_hash = m.hash) LIMIT ${LIMIT}`)
    .all() as { hash: string; run_id: string; round: number }[];
  for (const m of models) out.push({ index: length, reason: `model ${m.hash.slice(0, 12)} of run ${m.run_id} round ${m.round} is stored, but no ledger entry commits it` });
  if (hasTable(db, 'prediction_audit')) {
    const served = db
      .prepare(
        `SELECT a.ledger_index, a.model_hash, COUNT(*) AS n, MIN(l.idx) AS found FROM prediction_audit a LEFT JOIN ledger l ON l.idx = a.ledger_index
         WHERE l.idx IS NULL OR l.model_hash != a.model_hash GROUP BY a.ledger_index, a.model_hash ORDER BY a.ledger_index LIMIT ${LIMIT}`,
      )
      .all() as { ledger_index: number; model_hash: string; n: number; found: number | null }[];
    for (const a of served) {
      const what = `the prediction audit log has ${a.n} prediction(s) served from entry ${a.ledger_index}`;
      out.push({ index: a.ledger_index, reason: a.found === null ? `${what}, which the ledger lacks` : `${what}, which commits another model` });
    }
  }
  return out.sort((a, b) => a.index - b.index);
}
