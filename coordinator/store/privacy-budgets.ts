// Each site's privacy budget (the most ε its data may spend across all runs), as admins set it. Kept
// as an append-only log (triggers refuse UPDATE and DELETE): who set which budget when stays on
// record; a site's budget is its latest row, and a row with no ε lifts it.

import { FedrxError } from '../../shared/errors.js';
import type { Db } from './db.js';

export const BUDGET_SCHEMA = `
CREATE TABLE IF NOT EXISTS privacy_budgets (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id TEXT NOT NULL,
  epsilon REAL,
  set_at TEXT NOT NULL,
  set_by TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS privacy_budgets_no_update BEFORE UPDATE ON privacy_budgets
  BEGIN SELECT RAISE(ABORT, 'append-only: budget changes cannot be changed'); END;
CREATE TRIGGER IF NOT EXISTS privacy_budgets_no_delete BEFORE DELETE ON privacy_budgets
  BEGIN SELECT RAISE(ABORT, 'append-only: budget changes cannot be deleted'); END;
`;

export interface BudgetChange {
  seq: number;
  siteId: string;
  /** null: the budget was lifted. */
  epsilon: number | null;
  setAt: string;
  setBy: string;
}

interface Row {
  seq: number;
  site_id: string;
  epsilon: number | null;
  set_at: string;
  set_by: string;
}

const fromRow = (r: Row): BudgetChange => ({ seq: r.seq, siteId: r.site_id, epsilon: r.epsilon, setAt: r.set_at, setBy: r.set_by });

export class PrivacyBudgets {
  constructor(private readonly db: Db) {}

  /** Sets (or with null lifts) a registered site's budget; `by` names who did it. */
  set(siteId: string, epsilon: number | null, by: string): BudgetChange {
    if (epsilon !== null && !(Number.isFinite(epsilon) && epsilon > 0)) throw new FedrxError('E_BAD_REQUEST', `a privacy budget must be a positive finite ε, got ${epsilon}`);
    if (this.db.prepare('SELECT 1 FROM sites WHERE id = ?').get(siteId) === undefined) throw new FedrxError('E_NOT_FOUND', `no site ${siteId} is registered`);
    const at = new Date().toISOString();
    const { lastInsertRowid } = this.db.prepare('INSERT INTO privacy_budgets (site_id, epsilon, set_at, set_by) VALUES (?, ?, ?, ?)').run(siteId, epsilon, at, by);
    return { seq: Number(lastInsertRowid), siteId, epsilon, setAt: at, setBy: by };
  }

  /** Each site's budget now (sites whose latest change lifted it are left out). */
  current(): Map<string, BudgetChange> {
    if (!this.exists()) return new Map();
    const rows = this.db
      .prepare('SELECT b.* FROM privacy_budgets b JOIN (SELECT site_id, MAX(seq) AS seq FROM privacy_budgets GROUP BY site_id) l ON l.seq = b.seq ORDER BY b.site_id')
      .all() as Row[];
    return new Map(rows.filter((r) => r.epsilon !== null).map((r) => [r.site_id, fromRow(r)]));
  }

  /** Every change, oldest first. */
  history(): BudgetChange[] {
    if (!this.exists()) return [];
    return (this.db.prepare('SELECT * FROM privacy_budgets ORDER BY seq').all() as Row[]).map(fromRow);
  }

  /** False for a database made before budgets existed and opened read-only (not migrated). */
  private exists(): boolean {
    return this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'privacy_budgets'`).get() !== undefined;
  }
}
