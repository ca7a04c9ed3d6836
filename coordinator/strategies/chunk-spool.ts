// The verified chunks of one site's stream, kept in a temporary file while the stream is open:
// the running sum folds each chunk as it arrives, so a stream that then fails must be subtracted
// back out, and only the chunks themselves say what to subtract. Memory: none beyond one block
// read back at a time. The file and its folder are removed when the stream ends either way.

import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Temporary folders of open streams start with this (the tests look for leftovers by it). */
export const SPOOL_PREFIX = 'fedrx-stream-';

export class ChunkSpool {
  private file: { dir: string; fd: number } | null = null;
  /** Values written so far, from offset 0 (chunks arrive in order). */
  private length = 0;

  /** Keeps `values` as the stream's values from `offset` (made on the first write). */
  write(offset: number, values: Float32Array): void {
    if (this.file === null) {
      const dir = mkdtempSync(join(tmpdir(), SPOOL_PREFIX));
      this.file = { dir, fd: openSync(join(dir, 'chunks.f32'), 'w+', 0o600) };
    }
    writeSync(this.file.fd, new Uint8Array(values.buffer, values.byteOffset, values.byteLength), 0, values.byteLength, offset * 4);
    this.length = Math.max(this.length, offset + values.length);
  }

  /** Calls `visit(offset, values)` over everything written, `block` values at a time. */
  forEachBlock(block: number, visit: (offset: number, values: Float32Array) => void): void {
    if (this.file === null) return;
    const buf = new Float32Array(Math.min(block, this.length));
    for (let offset = 0; offset < this.length; offset += block) {
      const n = Math.min(block, this.length - offset);
      readSync(this.file.fd, new Uint8Array(buf.buffer, 0, n * 4), 0, n * 4, offset * 4);
      visit(offset, buf.subarray(0, n));
    }
  }

  /** Removes the file; safe to call twice. */
  close(): void {
    if (this.file === null) return;
    closeSync(this.file.fd);
    rmSync(this.file.dir, { recursive: true, force: true });
    this.file = null;
    this.length = 0;
  }
}
