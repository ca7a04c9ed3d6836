// A committed model's frame in the database. SQLite binds at most about 512 MiB in one value, so a
// larger frame (a model of more than ~130M weights) keeps its first part in models.frame and the
// rest, in order, in model_parts; a smaller one is stored as before, in one row.

import type { Db } from './db.js';

/** Bytes per stored part: well under SQLite's limit on one value. */
export const MODEL_PART_BYTES = 256 * 1024 * 1024;

export const MODEL_PARTS_SCHEMA = `
CREATE TABLE IF NOT EXISTS model_parts (
  hash TEXT NOT NULL REFERENCES models(hash),
  part INTEGER NOT NULL CHECK (part >= 1),
  bytes BLOB NOT NULL,
  PRIMARY KEY (hash, part)
);
`;

/** Stores `frame` for `hash` unless a model of that hash is stored already (inside the caller's transaction). */
export function putModelFrame(db: Db, row: { hash: string; runId: string; round: number; createdAt: string }, frame: Buffer, partBytes = MODEL_PART_BYTES): void {
  const first = frame.subarray(0, partBytes);
  const added = db.prepare('INSERT OR IGNORE INTO models (hash, run_id, round, frame, created_at) VALUES (?, ?, ?, ?, ?)').run(row.hash, row.runId, row.round, first, row.createdAt);
  if (added.changes === 0) return;
  const part = db.prepare('INSERT INTO model_parts (hash, part, bytes) VALUES (?, ?, ?)');
  for (let at = partBytes, k = 1; at < frame.length; at += partBytes, k++) part.run(row.hash, k, frame.subarray(at, at + partBytes));
}

/** The stored frame of `hash`, its parts joined, or undefined. */
export function readModelFrame(db: Db, hash: string): { run_id: string; round: number; frame: Buffer } | undefined {
  const r = db.prepare('SELECT run_id, round, frame FROM models WHERE hash = ?').get(hash) as { run_id: string; round: number; frame: Buffer } | undefined;
  if (r === undefined) return undefined;
  const parts = db.prepare('SELECT bytes FROM model_parts WHERE hash = ? ORDER BY part').all(hash) as { bytes: Buffer }[];
  return parts.length === 0 ? r : { ...r, frame: Buffer.concat([r.frame, ...parts.map((p) => p.bytes)]) };
}
