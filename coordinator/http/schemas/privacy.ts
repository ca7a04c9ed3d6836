// REST schemas for privacy budgets. Bodies are attacker-controlled until checked here.

import { Type, type Static } from '@sinclair/typebox';

export const BudgetParams = Type.Object({ siteId: Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$' }) }, { additionalProperties: false });
export type BudgetParams = Static<typeof BudgetParams>;

/** ε the site's data may spend across all runs; null lifts the budget. */
export const SetBudgetBody = Type.Object({ epsilon: Type.Union([Type.Number({ exclusiveMinimum: 0, maximum: 1e6 }), Type.Null()]) }, { additionalProperties: false });
export type SetBudgetBody = Static<typeof SetBudgetBody>;
