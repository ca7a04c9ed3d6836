// The agent's side of a chunked update: which answers go as streams, and the back-pressure of
// sending one (never more than the window of frames unwritten, stopping when the socket fails).

import { describe, expect, it } from 'vitest';
import { chunkedUpdate, sendStream } from '../../site-agent/chunked-send.js';
import { hashWeights } from '../../shared/model-hash.js';
import { generateKeyPair } from '../../shared/signing.js';
import { encodeFrame, frameKind } from '../../shared/tensor-codec.js';
import { decodeChunkFrame, decodeStreamHeader } from '../../shared/update-chunks.js';
import { PROTOCOL_VERSION } from '../../shared/wire.js';

const keys = generateKeyPair();
const weights = [{ name: 'w', shape: [10], data: Float32Array.from({ length: 10 }, (_, i) => i / 4) }];
const meta = { v: PROTOCOL_VERSION, kind: 'update', runId: 'run-1', round: 1, siteId: 'site-a', baseModelHash: 'a'.repeat(64), updateHash: hashWeights(weights), numExamples: 3, trainLoss: 0.5, signature: 'c'.repeat(128) };
const frame = encodeFrame(meta, weights);

describe('chunkedUpdate', () => {
  it('streams an update frame larger than the chunk size, in chunks of that many bytes; keeps everything else whole', () => {
    const s = chunkedUpdate(frame, keys, 16)!;
    expect(s.chunkCount).toBe(3); // 10 values, 4 per chunk
    const h = decodeStreamHeader(s.header);
    expect(h).toMatchObject({ runId: 'run-1', round: 1, updateHash: meta.updateHash, signature: meta.signature, numExamples: 3, chunkValues: 4 });
    expect([0, 1, 2].flatMap((i) => [...decodeChunkFrame(s.chunk(i), 4).values])).toEqual([...weights[0]!.data]);
    expect(chunkedUpdate(frame, keys, frame.length)).toBeNull();
    expect(chunkedUpdate('{"type":"eval-result"}'.repeat(10), keys, 16)).toBeNull();
    expect(chunkedUpdate(encodeFrame({ ...meta, kind: 'train' }, weights), keys, 16)).toBeNull();
  });
});

describe('sendStream', () => {
  const stream = chunkedUpdate(frame, keys, 4)!; // 10 chunks of one value

  it('sends the header then every chunk in order, never more than the window unwritten', async () => {
    const sent: string[] = [];
    let unwritten = 0;
    let most = 0;
    const ok = await sendStream(stream, async (f) => {
      unwritten++;
      most = Math.max(most, unwritten);
      sent.push(frameKind(f) === 'update-stream' ? 'header' : String(decodeChunkFrame(f, 1).header.index));
      await new Promise((r) => setTimeout(r, 2));
      unwritten--;
      return true;
    }, 2);
    expect(ok).toBe(true);
    expect(sent).toEqual(['header', ...Array.from({ length: 10 }, (_, i) => String(i))]);
    expect(most).toBe(2);
  });

  it('stops making chunks once a send fails', async () => {
    let calls = 0;
    const ok = await sendStream(stream, async () => ++calls < 4, 1);
    expect(ok).toBe(false);
    expect(calls).toBe(4);
  });
});
