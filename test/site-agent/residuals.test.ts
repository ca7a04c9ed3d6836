import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Residuals, RESIDUALS_DIR } from '../../site-agent/residuals.js';
import { tempDir, type TempDir } from './helpers.js';

let tmp: TempDir | undefined;
afterEach(() => {
  tmp?.cleanup();
  tmp = undefined;
});

const v = (...x: number[]): Float32Array => new Float32Array(x);

describe('residuals kept for error feedback', () => {
  it('carry a round\'s residual into the next, and a round trained again starts from what it started from', async () => {
    const r = Residuals.inMemory();
    expect(r.carryInto('run-1', 1)).toBeNull();
    await r.record('run-1', 1, v(1, 0));
    expect(Array.from(r.carryInto('run-1', 2)!)).toEqual([1, 0]);
    await r.record('run-1', 2, v(0, 2));
    // Round 2 redone (its kept answer lost): it starts again from round 1's residual, not its own.
    expect(Array.from(r.carryInto('run-1', 2)!)).toEqual([1, 0]);
    await r.record('run-1', 2, v(0, 3));
    expect(Array.from(r.carryInto('run-1', 3)!)).toEqual([0, 3]);
    // A round skipped (the site was not selected) carries the residual on.
    expect(Array.from(r.carryInto('run-1', 5)!)).toEqual([0, 3]);
  });

  it('keep runs apart, and forget the oldest beyond four', async () => {
    const r = Residuals.inMemory();
    for (let i = 1; i <= 5; i++) await r.record(`run-${i}`, 1, v(i));
    expect(r.carryInto('run-1', 2)).toBeNull();
    expect(Array.from(r.carryInto('run-2', 2)!)).toEqual([2]);
    expect(Array.from(r.carryInto('run-5', 2)!)).toEqual([5]);
  });

  it('are kept on disk: an agent restarted on its state folder goes on from them; an unreadable file is removed', async () => {
    tmp = tempDir('fedrx-residuals-');
    const logs: string[] = [];
    const first = await Residuals.open(tmp.dir, (l) => logs.push(l));
    await first.record('run-1', 1, v(1, 0));
    await first.record('run-1', 2, v(0, 2));
    await first.record('run-2', 1, v(5));
    writeFileSync(path.join(tmp.dir, RESIDUALS_DIR, 'junk.frame'), 'not a frame');
    const again = await Residuals.open(tmp.dir, (l) => logs.push(l));
    expect(Array.from(again.carryInto('run-1', 3)!)).toEqual([0, 2]);
    expect(Array.from(again.carryInto('run-1', 2)!)).toEqual([1, 0]); // round 2 redone: from round 1's
    expect(Array.from(again.carryInto('run-2', 2)!)).toEqual([5]);
    expect(logs).toEqual([expect.stringMatching(/^residual junk\.frame in .* is unreadable .*; removed$/)]);
    // One file a run; forgotten runs' files go too.
    for (let i = 3; i <= 6; i++) await again.record(`run-${i}`, 1, v(i));
    expect(readdirSync(path.join(tmp.dir, RESIDUALS_DIR)).filter((f) => f.endsWith('.frame')).length).toBe(4);
    expect((await Residuals.open(tmp.dir, () => {})).carryInto('run-1', 3)).toBeNull();
  });
});
