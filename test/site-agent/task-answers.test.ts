// A site's update answer carries a regional agent's child head beside its signed fields, in one
// frame and, when large, in the chunked stream's header; a hospital's update carries none.

import { describe, expect, it } from 'vitest';
import { signHead, type SignedHead } from '../../shared/ledger-head.js';
import { generateKeyPair, updateBody, verify } from '../../shared/signing.js';
import type { Study } from '../../shared/study.js';
import type { Weights } from '../../shared/tensors.js';
import { decodeStreamHeader } from '../../shared/update-chunks.js';
import { decodeUpdateFrame, type TaskHeader } from '../../shared/wire.js';
import { chunkedUpdate } from '../../site-agent/chunked-send.js';
import type { ComputeKind, ComputeResults, ComputeTasks, SiteCompute } from '../../site-agent/compute-tasks.js';
import { trainAnswer } from '../../site-agent/task-answers.js';

const keys = generateKeyPair();
const global: Weights = [{ name: 'w', shape: [300], data: new Float32Array(300) }];

/** Trains to global + 1, and hands back `childHead` as a regional compute would. */
function compute(childHead?: SignedHead): SiteCompute {
  return {
    backend: () => Promise.resolve('cpu'),
    close: () => Promise.resolve(),
    run<K extends ComputeKind>(kind: K, input: ComputeTasks[K]): Promise<ComputeResults[K]> {
      if (kind !== 'train') return Promise.reject(new Error(kind));
      const { global: g } = input as ComputeTasks['train'];
      const result = { weights: g.map((t) => ({ ...t, data: t.data.map((x) => x + 1) })), trainLoss: 0.5, numExamples: 1000, ...(childHead === undefined ? {} : { childHead }) };
      return Promise.resolve(result as ComputeResults[K]);
    },
  };
}

const task = {
  v: 1,
  kind: 'train',
  runId: 'run-n',
  round: 2,
  modelHash: 'a'.repeat(64),
  config: { training: { lr: 0.1, lrDecay: 1, seed: 1 }, preprocessing: {} },
  tensors: [{ name: 'w', shape: [300] }],
} as unknown as TaskHeader;

describe('trainAnswer', () => {
  const head = signHead({ length: 4, headHash: 'b'.repeat(64) }, generateKeyPair());

  it('puts the child head in the update header, outside the signed body', async () => {
    const answer = await trainAnswer({ siteId: 'region-01', keys, compute: compute(head) }, task, {} as Study, global);
    const { header } = decodeUpdateFrame(answer.bytes as Buffer);
    expect(header.childHead).toEqual(head);
    expect(header.numExamples).toBe(1000);
    expect(verify('update', updateBody(header), header.signature, keys.publicKey)).toBe(true);
    // Sent as a stream, the header still carries it.
    const stream = chunkedUpdate(answer.bytes, keys, 400)!;
    expect(stream.chunkCount).toBe(3);
    expect(decodeStreamHeader(stream.header).childHead).toEqual(head);
  });

  it('a hospital, whose training has no child head, sends none', async () => {
    const answer = await trainAnswer({ siteId: 'site-a', keys, compute: compute() }, task, {} as Study, global);
    const { header } = decodeUpdateFrame(answer.bytes as Buffer);
    expect('childHead' in header).toBe(false);
    expect('childHead' in decodeStreamHeader(chunkedUpdate(answer.bytes, keys, 400)!.header)).toBe(false);
  });
});
