// The relay-update frame a relay run answers a training step with, as its caller decodes it
// (attacker-controlled): version, header schema, and the weights against their declared hash.

import { describe, expect, it } from 'vitest';
import { signHead } from '../../shared/ledger-head.js';
import { hashWeights } from '../../shared/model-hash.js';
import { decodeRelayUpdate } from '../../shared/relay-wire.js';
import { generateKeyPair } from '../../shared/signing.js';
import { encodeFrame } from '../../shared/tensor-codec.js';
import type { Weights } from '../../shared/tensors.js';
import { thrownCode } from '../helpers/error-code.js';

const WEIGHTS: Weights = [{ name: 'dense0/kernel', shape: [2, 1], data: new Float32Array([0.5, -1]) }, { name: 'dense0/bias', shape: [1], data: new Float32Array([2]) }];
const HEAD = signHead({ length: 3, headHash: 'a'.repeat(64) }, generateKeyPair());
const HEADER = { v: 1, kind: 'relay-update', runId: 'run-0000abcd', round: 2, modelHash: hashWeights(WEIGHTS), numExamples: 40, trainLoss: 2.5, sites: 2, head: HEAD };
const frame = (over: Record<string, unknown> = {}, weights = WEIGHTS): Buffer => encodeFrame({ ...HEADER, ...over }, weights);

describe('relay-update frames', () => {
  it('decodes a good frame: header and weights', () => {
    const { header, weights } = decodeRelayUpdate(frame());
    expect(header).toMatchObject({ ...HEADER, tensors: [{ name: 'dense0/kernel', shape: [2, 1] }, { name: 'dense0/bias', shape: [1] }] });
    expect([...weights[0]!.data]).toEqual([0.5, -1]);
  });

  it('refuses another version, kind, a missing or extra field, counts out of range, a bad head, and weights that do not hash to modelHash', () => {
    expect(thrownCode(() => decodeRelayUpdate(frame({ v: 2 })))).toBe('E_PROTOCOL_VERSION');
    expect(thrownCode(() => decodeRelayUpdate(frame({ kind: 'update' })))).toBe('E_FRAME_HEADER');
    expect(thrownCode(() => decodeRelayUpdate(frame({ sites: undefined })))).toBe('E_FRAME_HEADER');
    expect(thrownCode(() => decodeRelayUpdate(frame({ extra: 1 })))).toBe('E_FRAME_HEADER');
    expect(thrownCode(() => decodeRelayUpdate(frame({ numExamples: 0 })))).toBe('E_FRAME_HEADER');
    expect(thrownCode(() => decodeRelayUpdate(frame({ round: 0 })))).toBe('E_FRAME_HEADER');
    expect(thrownCode(() => decodeRelayUpdate(frame({ head: { ...HEAD, signature: 'zz' } })))).toBe('E_FRAME_HEADER');
    expect(thrownCode(() => decodeRelayUpdate(frame({ modelHash: '0'.repeat(64) })))).toBe('E_HASH_MISMATCH');
    expect(thrownCode(() => decodeRelayUpdate(frame().subarray(0, 20)))).toMatch(/^E_FRAME_/);
  });
});
