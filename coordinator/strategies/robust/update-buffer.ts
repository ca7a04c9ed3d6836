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

/** One update being written into the buffer, a run of values at a time (a chunked update), then kept or dropped. */
export interface UpdateSlot {
  write(offset: number, values: Float32Array): void;
  /** The update counts, as `siteId`'s. */
  commit(siteId: string): void;
  /** The update is dropped; its room is reused. */
  discard(): void;
}

export class UpdateBuffer {
  /** Committed updates, in the order of `sites`: in memory, or a row of the spill file. */
  private readonly kept: (Float32Array | number)[] = [];
  /** Rows of discarded updates, to be written again. */
  private readonly freeRows: number[] = [];
  private rows = 0;
  /** Slots open in memory: they count against the budget before they commit. */
  private openInMemory = 0;
  private file: { dir: string; fd: number } | null = null;
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
    return this.kept.filter((k) => typeof k === 'number').length;
  }

  add(siteId: string, weights: Weights): void {
    const slot = this.open();
    let at = 0;
    for (const t of weights) {
      slot.write(at, t.data);
      at += t.data.length;
    }
    slot.commit(siteId);
  }

  /** Room for one more update: in memory within the budget, else a row of the spill file. */
  open(): UpdateSlot {
    const inMemory = this.kept.length - this.spilled;
    if ((inMemory + this.openInMemory + 1) * this.size * 4 <= this.budgetBytes) {
      this.openInMemory++;
      let flat: Float32Array | null = new Float32Array(this.size);
      const close = (): Float32Array => {
        const f = flat!;
        flat = null;
        this.openInMemory--;
        return f;
      };
      return {
        write: (offset, values) => flat!.set(values, offset),
        commit: (siteId) => {
          this.kept.push(close());
          this.sites.push(siteId);
        },
        discard: () => void close(),
      };
    }
    const fd = this.spillFile();
    const row = this.freeRows.pop() ?? this.rows++;
    return {
      write: (offset, values) => void writeSync(fd, new Uint8Array(values.buffer, values.byteOffset, values.byteLength), 0, values.byteLength, (row * this.size + offset) * 4),
      commit: (siteId) => {
        this.kept.push(row);
        this.sites.push(siteId);
      },
      discard: () => void this.freeRows.push(row),
    };
  }

  private spillFile(): number {
    if (this.file === null) {
      const dir = mkdtempSync(join(tmpdir(), 'fedrx-updates-'));
      this.file = { dir, fd: openSync(join(dir, 'updates.f32'), 'w+', 0o600) };
    }
    return this.file.fd;
  }

  /** Calls `visit(start, rows)` for each block of up to `block` coordinates: rows[i] holds update i's values there. */
  forEachBlock(block: number, visit: (start: number, rows: Float32Array[]) => void): void {
    const reads = this.kept.map((k) => (typeof k === 'number' ? new Float32Array(block) : null));
    for (let start = 0; start < this.size; start += block) {
      const n = Math.min(block, this.size - start);
      const rows = this.kept.map((k, i) => {
        if (typeof k !== 'number') return k.subarray(start, start + n);
        const buf = reads[i]!.subarray(0, n);
        readSync(this.file!.fd, new Uint8Array(buf.buffer, 0, n * 4), 0, n * 4, (k * this.size + start) * 4);
        return buf;
      });
      visit(start, rows);
    }
  }

  /** Removes the spill file; the buffer is empty afterwards. */
  close(): void {
    this.kept.length = 0;
    if (this.file !== null) {
      closeSync(this.file.fd);
      rmSync(this.file.dir, { recursive: true, force: true });
      this.file = null;
    }
  }
}
