// An update whose frame is larger than the chunk size leaves as a stream (shared/update-chunks.ts)
// on the same socket, with back-pressure: a chunk frame is made only when fewer than `window`
// frames wait to be written, so the agent holds the update plus at most `window` chunks, and the
// socket's buffer never holds the whole update. Smaller updates keep their one frame.

import type { KeyPair } from '../shared/signing.js';
import { frameKind } from '../shared/tensor-codec.js';
import { updateStream, type UpdateStream } from '../shared/update-chunks.js';
import { decodeUpdateFrame } from '../shared/wire.js';

/** Sends one frame; resolves once it is written to the socket (true) or could not be (false). */
export type PacedSend = (frame: Buffer) => Promise<boolean>;

/** Chunk frames in flight at once: enough to keep the socket busy while the next one is made. */
export const SEND_WINDOW = 2;

/** The stream to send instead of `bytes`, or null when `bytes` is not an update frame larger than `chunkBytes`. */
export function chunkedUpdate(bytes: Buffer | string, keys: KeyPair, chunkBytes: number): UpdateStream | null {
  if (typeof bytes === 'string' || bytes.length <= chunkBytes || frameKind(bytes) !== 'update') return null;
  const { header, weights } = decodeUpdateFrame(bytes);
  const { tensors: _table, ...meta } = header;
  return updateStream(meta, weights, keys, Math.max(1, Math.floor(chunkBytes / 4)));
}

/** Sends the header and every chunk in order, at most `window` frames unwritten; false when the socket failed midway. */
export async function sendStream(stream: UpdateStream, send: PacedSend, window = SEND_WINDOW): Promise<boolean> {
  const pending: Promise<boolean>[] = [send(stream.header)];
  for (let i = 0; i < stream.chunkCount; i++) {
    while (pending.length >= window) if (!(await pending.shift()!)) return false;
    pending.push(send(stream.chunk(i)));
  }
  return (await Promise.all(pending)).every(Boolean);
}
