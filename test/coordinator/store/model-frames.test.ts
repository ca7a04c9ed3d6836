// Model frames larger than one SQLite value: split into parts on the way in, joined on the way out;
// a small frame stays one row; a model already stored is left as it is.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../../coordinator/store/db.js';
import { putModelFrame, readModelFrame } from '../../../coordinator/store/model-frames.js';
import { tempDir } from '../../helpers/temp.js';

describe('model frames', () => {
  it('a frame longer than a part is stored in parts and read back whole; a shorter one in one row', () => {
    const db = openDb(join(tempDir('model-frames'), 'c.sqlite'));
    db.prepare(`INSERT INTO runs (id, seq, status, config_json, config_hash, created_at) VALUES ('run-1', 1, 'running', '{}', 'h', 't')`).run();
    const big = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    putModelFrame(db, { hash: 'big', runId: 'run-1', round: 1, createdAt: 't' }, big, 4);
    putModelFrame(db, { hash: 'small', runId: 'run-1', round: 2, createdAt: 't' }, Buffer.from([7, 7]), 4);
    expect(db.prepare('SELECT hash, part, length(bytes) AS n FROM model_parts ORDER BY hash, part').all()).toEqual([
      { hash: 'big', part: 1, n: 4 },
      { hash: 'big', part: 2, n: 2 },
    ]);
    expect(readModelFrame(db, 'big')).toEqual({ run_id: 'run-1', round: 1, frame: big });
    expect([...readModelFrame(db, 'small')!.frame]).toEqual([7, 7]);
    // The same hash again changes nothing (INSERT OR IGNORE, as before), parts included.
    putModelFrame(db, { hash: 'big', runId: 'run-1', round: 1, createdAt: 't' }, Buffer.from([0, 0, 0, 0, 0, 0]), 4);
    expect(readModelFrame(db, 'big')!.frame).toEqual(big);
    expect(readModelFrame(db, 'none')).toBeUndefined();
    db.close();
  });
});
