import { describe, expect, it } from 'vitest';
import { deltaOf, plusDelta } from '../../../shared/byzantine/update-delta.js';
import { compressUpdate, decodeDelta, reconstructUpdate } from '../../../shared/compression/update-codec.js';
import type { Weights } from '../../../shared/tensors.js';
import { thrownCode } from '../../helpers/error-code.js';

const GLOBAL: Weights = [
  { name: 'k', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
  { name: 'b', shape: [2], data: new Float32Array([0.5, -0.5]) },
];
const TRAINED: Weights = [
  { name: 'k', shape: [2, 2], data: new Float32Array([1.5, 2, 2, 4.25]) },
  { name: 'b', shape: [2], data: new Float32Array([0.5, 1.5]) },
];
const flat = (w: Weights): number[] => w.flatMap((t) => Array.from(t.data));

describe('compressed updates', () => {
  it('the change is trained − global, flat in table order, and adding it back gives the trained weights', () => {
    expect(Array.from(deltaOf(GLOBAL, TRAINED))).toEqual([0.5, 0, -1, 0.25, 0, 2]);
    const back = plusDelta(GLOBAL, deltaOf(GLOBAL, TRAINED));
    expect(back.map((t) => [t.name, t.shape])).toEqual([['k', [2, 2]], ['b', [2]]]);
    expect(flat(back)).toEqual(flat(TRAINED));
  });

  it('float16: these changes are exact in halves, so the coordinator rebuilds the trained weights and nothing is held back', () => {
    const { payload, residual } = compressUpdate(GLOBAL, TRAINED, { codec: 'float16' }, null);
    expect(payload.codec).toBe('float16');
    expect(Array.from(payload.data)).toEqual([0x3800, 0x0000, 0xbc00, 0x3400, 0x0000, 0x4000]);
    expect(Array.from(residual)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(flat(reconstructUpdate(GLOBAL, payload, { codec: 'float16' }))).toEqual(flat(TRAINED));
  });

  it('float16: what rounding loses is held back, and the residual carried in is added first', () => {
    const t: Weights = [{ ...TRAINED[0]!, data: new Float32Array([4 / 3, 2, 3, 4]) }, TRAINED[1]!];
    const { payload, residual } = compressUpdate(GLOBAL, t, { codec: 'float16' }, new Float32Array([0, 0, 0, 0, 0.25, 0]));
    const sent = decodeDelta(payload, { codec: 'float16' }, 6);
    expect(sent[4]).toBe(0.25); // the residual, sent this round
    // sent + residual is what was meant: the float32 change plus the residual carried in.
    expect(sent[0]! + residual[0]!).toBe(Math.fround(Math.fround(4 / 3) - 1));
    expect(residual[0]).not.toBe(0);
  });

  it('top-k: sends the largest changes as sparse words and holds the rest back', () => {
    // 6 parameters at 1/3: k = 2, the changes 2 (index 5) and −1 (index 2).
    const c = { codec: 'topk', fraction: 1 / 3 } as const;
    const { payload, residual } = compressUpdate(GLOBAL, TRAINED, c, null);
    expect(payload.codec).toBe('topk');
    expect(Array.from(payload.data.subarray(0, 2))).toEqual([2, 5]);
    expect(Array.from(residual)).toEqual([0.5, 0, 0, 0.25, 0, 0]);
    expect(flat(reconstructUpdate(GLOBAL, payload, c))).toEqual([1, 2, 2, 4, 0.5, 1.5]);
  });

  // Attacker-controlled at the coordinator: the run's codec, the model's length, the run's k.
  it('refuses another codec than the run\'s, a float16 change of another length, and more entries than the run\'s k', () => {
    const half = compressUpdate(GLOBAL, TRAINED, { codec: 'float16' }, null).payload;
    const sparse = compressUpdate(GLOBAL, TRAINED, { codec: 'topk', fraction: 0.5 }, null).payload; // k = 3
    expect(thrownCode(() => reconstructUpdate(GLOBAL, half, { codec: 'topk', fraction: 0.5 }))).toBe('E_COMPRESSED_UPDATE');
    expect(thrownCode(() => reconstructUpdate(GLOBAL, sparse, { codec: 'float16' }))).toBe('E_COMPRESSED_UPDATE');
    expect(thrownCode(() => decodeDelta({ codec: 'float16', data: new Uint16Array(5) }, { codec: 'float16' }, 6))).toBe('E_COMPRESSED_UPDATE');
    expect(thrownCode(() => reconstructUpdate(GLOBAL, sparse, { codec: 'topk', fraction: 1 / 3 }))).toBe('E_COMPRESSED_UPDATE');
  });

  it('refuses a change float16 cannot hold (E_NON_FINITE), rather than clipping it', () => {
    const far: Weights = [{ ...TRAINED[0]!, data: new Float32Array([1e5, 2, 3, 4]) }, TRAINED[1]!];
    expect(thrownCode(() => compressUpdate(GLOBAL, far, { codec: 'float16' }, null))).toBe('E_NON_FINITE');
  });
});
