// The four kinds of API caller. Separation of duties: no role is a superuser, and each REST route
// names the roles it accepts (auth.ts).

export const ROLES = ['admin', 'data-scientist', 'clinician', 'auditor'] as const;

export type Role = (typeof ROLES)[number];

export const isRole = (v: unknown): v is Role => typeof v === 'string' && (ROLES as readonly string[]).includes(v);
