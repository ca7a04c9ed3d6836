// Every update of a round, kept for the rules that need them all at once (median, trimmed mean,
// Multi-Krum): O(sites × model). Updates stay in memory up to a byte budget; beyond it they go to a
// temporary file, read back a block of coordinates at a time, so a strategy never runs the
// coordinator out of memory because it needed n copies. The file is removed when the round ends.

import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Weights } from '../../../shared/tensors.js';

/** Default memory budget for one round's updates (FEDRX_ROBUST_BUFFER_MB overrides it). */
export const DEFAULT_BUFFER_BYTES = 512 * 1024 * 1024;

export function bufferBudget(): number {
  const mb = Number(process.env.FEDRX_ROBUST_BUFFER_MB);
  return Number.isFinite(mb) && mb >= 0 ? mb * 1024 * 1024 : DEFAULT_BUFFER_BYTES;
}

export class UpdateBuffer {
  private readonly inMemory: Float32Array[] = [];
  private file: { dir: string; fd: number } | null = null;
  private onDisk = 0;
  readonly sites: string[] = [];

  constructor(
    readonly size: number,
    private readonly budgetBytes: number,
  ) {}

  get count(): number {
    return this.sites.length;
  }

  /** Where the updates beyond the budget went, if any: for the round's log. */
  get spilled(): number {
    return this.onDisk;
  }

  add(siteId: string, weights: Weights): void {
    const flat = new Float32Array(this.size);
    let at = 0;
    for (const t of weights) {
      flat.set(t.data, at);
      at += t.data.length;
    }
    this.sites.push(siteId);
    if ((this.inMemory.length + 1) * this.size * 4 <= this.budgetBytes) {
      this.inMemory.push(flat);
      return;
    }
    if (this.file === null) {
      const dir = mkdtempSync(join(tmpdir(), 'fedrx-updates-'));
      this.file = { dir, fd: openSync(join(dir, 'updates.f32'), 'w+', 0o600) };
    }
    writeSync(this.file.fd, new Uint8Array(flat.buffer), 0, flat.byteLength, this.onDisk * this.size * 4);
    this.onDisk++;
  }

  /** Calls `visit(start, rows)` for each block of up to `block` coordinates: rows[i] holds update i's values there. */
  forEachBlock(block: number, visit: (start: number, rows: Float32Array[]) => void): void {
    const disk = Array.from({ length: this.onDisk }, () => new Float32Array(block));
    for (let start = 0; start < this.size; start += block) {
      const n = Math.min(block, this.size - start);
      const rows = this.inMemory.map((u) => u.subarray(start, start + n));
      for (let k = 0; k < this.onDisk; k++) {
        const buf = disk[k]!.subarray(0, n);
        readSync(this.file!.fd, new Uint8Array(buf.buffer, 0, n * 4), 0, n * 4, (k * this.size + start) * 4);
        rows.push(buf);
      }
      visit(start, rows);
    }
  }

  /** Removes the spill file; the buffer is empty afterwards. */
  close(): void {
    this.inMemory.length = 0;
    if (this.file !== null) {
      closeSync(this.file.fd);
      rmSync(this.file.dir, { recursive: true, force: true });
      this.file = null;
    }
  }
}
