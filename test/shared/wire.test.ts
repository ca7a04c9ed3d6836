import { describe, expect, it } from 'vitest';
import { AUC_BINS } from '../../shared/auc.js';
import { FedrxError } from '../../shared/errors.js';
import { encodeFrame } from '../../shared/tensor-codec.js';
import { decodeUpdateFrame, parseAgentMessage, parseCoordinatorMessage, PROTOCOL_VERSION } from '../../shared/wire.js';

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return e instanceof FedrxError ? e.code : `not a FedrxError: ${String(e)}`;
  }
  return 'no error';
}

const HEAD = 'f'.repeat(64);
const NONCE = 'e'.repeat(64);
const SIGNATURE = 'd'.repeat(128);
const hello = (over: Record<string, unknown> = {}): string =>
  JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, siteId: 'site-a.1', nonce: NONCE, signature: SIGNATURE, replica: { length: 0, headHash: HEAD }, ...over });

describe('parseAgentMessage', () => {
  it('a valid hello parses', () => {
    expect(PROTOCOL_VERSION).toBe(1);
    const m = parseAgentMessage(hello({ backend: 'wasm' }));
    expect(m).toEqual({ type: 'hello', v: 1, siteId: 'site-a.1', nonce: NONCE, signature: SIGNATURE, backend: 'wasm', replica: { length: 0, headHash: HEAD } });
  });

  it('garbage text → E_BAD_JSON', () => {
    expect(codeOf(() => parseAgentMessage('{"type":"hello"'))).toBe('E_BAD_JSON');
    expect(codeOf(() => parseAgentMessage('hello'))).toBe('E_BAD_JSON');
    expect(codeOf(() => parseAgentMessage(''))).toBe('E_BAD_JSON');
  });

  it('wrong v → E_PROTOCOL_VERSION', () => {
    expect(codeOf(() => parseAgentMessage(hello({ v: 2 })))).toBe('E_PROTOCOL_VERSION');
    expect(codeOf(() => parseAgentMessage(hello({ v: '1' })))).toBe('E_PROTOCOL_VERSION');
    expect(codeOf(() => parseAgentMessage(hello({ v: undefined })))).toBe('E_PROTOCOL_VERSION');
  });

  it('hello missing siteId → E_BAD_MESSAGE', () => {
    expect(codeOf(() => parseAgentMessage(hello({ siteId: undefined })))).toBe('E_BAD_MESSAGE');
  });

  it('siteId with spaces (or otherwise outside [A-Za-z0-9._:-]) → E_BAD_MESSAGE', () => {
    expect(codeOf(() => parseAgentMessage(hello({ siteId: 'site a' })))).toBe('E_BAD_MESSAGE');
    expect(codeOf(() => parseAgentMessage(hello({ siteId: ' site-a' })))).toBe('E_BAD_MESSAGE');
    expect(codeOf(() => parseAgentMessage(hello({ siteId: 'site/a' })))).toBe('E_BAD_MESSAGE');
    expect(codeOf(() => parseAgentMessage(hello({ siteId: '' })))).toBe('E_BAD_MESSAGE');
    expect(codeOf(() => parseAgentMessage(hello({ siteId: 'x'.repeat(129) })))).toBe('E_BAD_MESSAGE');
    expect(codeOf(() => parseAgentMessage(hello({ siteId: 'x'.repeat(128) })))).toBe('no error');
  });

  it('other schema violations → E_BAD_MESSAGE', () => {
    expect(codeOf(() => parseAgentMessage(hello({ extra: 1 })))).toBe('E_BAD_MESSAGE');
    expect(codeOf(() => parseAgentMessage(hello({ token: 'site tokens are gone' })))).toBe('E_BAD_MESSAGE');
    expect(codeOf(() => parseAgentMessage(hello({ signature: undefined })))).toBe('E_BAD_MESSAGE');
    expect(codeOf(() => parseAgentMessage(hello({ signature: 'D'.repeat(128) })))).toBe('E_BAD_MESSAGE');
    expect(codeOf(() => parseAgentMessage(hello({ nonce: 'e'.repeat(63) })))).toBe('E_BAD_MESSAGE');
    expect(codeOf(() => parseAgentMessage(hello({ replica: { length: 0, headHash: 'F'.repeat(64) } })))).toBe('E_BAD_MESSAGE');
    expect(codeOf(() => parseAgentMessage(hello({ type: 'helo' })))).toBe('E_BAD_MESSAGE');
    expect(codeOf(() => parseAgentMessage('"hello"'))).toBe('E_BAD_MESSAGE');
  });
});

// A code from a peer is attacker-controlled: only the codes of shared/errors.ts pass.
describe('error codes in messages', () => {
  const taskError = (code: unknown): string => JSON.stringify({ type: 'task-error', v: 1, runId: 'run-1', round: 2, code, message: 'no' });
  const dispute = (code: unknown): string => JSON.stringify({ type: 'dispute', v: 1, index: 0, code, reason: 'no' });
  const error = (code: unknown): string => JSON.stringify({ type: 'error', v: 1, code, message: 'no' });

  it('a known code passes, typed as an ErrorCode', () => {
    const m = parseAgentMessage(taskError('E_CSV_MISSING_COLUMN'));
    expect(m.type === 'task-error' && m.code).toBe('E_CSV_MISSING_COLUMN');
    expect(codeOf(() => parseAgentMessage(dispute('E_ENTRY_DISPUTED')))).toBe('no error');
    expect(codeOf(() => parseCoordinatorMessage(error('E_SITE_REVOKED')))).toBe('no error');
  });

  it.each(['E_MADE_UP', 'E_', 'e_bad_json', 'toString', '__proto__', 'E_BAD_JSON ', 'E_'.padEnd(5000, 'X'), 7, null])('refuses code %j in task-error, dispute and error with E_BAD_MESSAGE', (code) => {
    expect(codeOf(() => parseAgentMessage(taskError(code)))).toBe('E_BAD_MESSAGE');
    expect(codeOf(() => parseAgentMessage(dispute(code)))).toBe('E_BAD_MESSAGE');
    expect(codeOf(() => parseCoordinatorMessage(error(code)))).toBe('E_BAD_MESSAGE');
  });

  it('the refusal names the message type and the field', () => {
    expect(() => parseAgentMessage(taskError('E_MADE_UP'))).toThrow(/^"task-error" message is invalid at \/code/);
    expect(() => parseAgentMessage(JSON.stringify({ type: 'hi', v: 1 }))).toThrow(/^message type "hi" is unknown$/);
  });
});

describe('eval-result with AUC counts', () => {
  const evalResult = (auc: unknown): string =>
    JSON.stringify({ type: 'eval-result', v: PROTOCOL_VERSION, runId: 'run-1', round: 1, modelHash: HEAD, numExamples: 3, loss: 0.4, sums: { n: 3, correct: 2, auc } });
  const bins = (n: number): number[] => new Array<number>(n).fill(0);

  it('takes per-class counts over 1,000 bins, and refuses more bins, negative or fractional counts', () => {
    expect(codeOf(() => parseAgentMessage(evalResult({ pos: [bins(AUC_BINS)], neg: [bins(AUC_BINS)] })))).toBe('no error');
    expect(codeOf(() => parseAgentMessage(evalResult({ pos: [bins(AUC_BINS + 1)], neg: [bins(AUC_BINS)] })))).toBe('E_BAD_MESSAGE');
    expect(codeOf(() => parseAgentMessage(evalResult({ pos: [[-1]], neg: [[0]] })))).toBe('E_BAD_MESSAGE');
    expect(codeOf(() => parseAgentMessage(evalResult({ pos: [[0.5]], neg: [[0]] })))).toBe('E_BAD_MESSAGE');
    expect(codeOf(() => parseAgentMessage(evalResult({ pos: [[1]], neg: [[0]], scores: [0.9] })))).toBe('E_BAD_MESSAGE');
  });
});

describe('decodeUpdateFrame', () => {
  const header = {
    v: 1,
    kind: 'update',
    runId: 'run-1',
    round: 0,
    siteId: 'site-a',
    baseModelHash: 'a'.repeat(64),
    updateHash: 'b'.repeat(64),
    numExamples: 12,
    trainLoss: 0.5,
    signature: SIGNATURE,
  };
  const weights = [{ name: 'w', shape: [2], data: new Float32Array([1, 2]) }];

  it('a complete update frame decodes (control)', () => {
    const d = decodeUpdateFrame(encodeFrame(header, weights));
    expect(d.header.updateHash).toBe('b'.repeat(64));
    expect(d.header.tensors).toEqual([{ name: 'w', shape: [2] }]);
    expect(Array.from(d.weights[0]!.data)).toEqual([1, 2]);
  });

  it('a header missing updateHash → E_FRAME_HEADER', () => {
    const { updateHash: _omit, ...rest } = header;
    expect(codeOf(() => decodeUpdateFrame(encodeFrame(rest, weights)))).toBe('E_FRAME_HEADER');
  });

  it('other header faults', () => {
    expect(codeOf(() => decodeUpdateFrame(encodeFrame({ ...header, v: 2 }, weights)))).toBe('E_PROTOCOL_VERSION');
    expect(codeOf(() => decodeUpdateFrame(encodeFrame({ ...header, kind: 'train' }, weights)))).toBe('E_FRAME_HEADER');
    expect(codeOf(() => decodeUpdateFrame(encodeFrame({ ...header, extra: true }, weights)))).toBe('E_FRAME_HEADER');
    expect(codeOf(() => decodeUpdateFrame(encodeFrame({ ...header, siteId: 'site a' }, weights)))).toBe('E_FRAME_HEADER');
    expect(codeOf(() => decodeUpdateFrame(encodeFrame(header, weights), 1))).toBe('E_FRAME_OVERSIZED');
  });
});

describe('eval-result with a calibration sketch', () => {
  const evalResult = (calibration: unknown): string =>
    JSON.stringify({ type: 'eval-result', v: PROTOCOL_VERSION, runId: 'run-1', round: 1, modelHash: HEAD, numExamples: 3, loss: 0.4, sums: { n: 3, correct: 2 }, calibration });

  it('bounds the sketch before anything is allocated: at most 2,001 whole counts; the exact size and totals are the evaluation phase\'s (E_BAD_SKETCH)', () => {
    expect(codeOf(() => parseAgentMessage(evalResult({ numExamples: 2, counts: new Array(2001).fill(0) })))).toBe('no error');
    expect(codeOf(() => parseAgentMessage(evalResult({ numExamples: 2, counts: new Array(2002).fill(0) })))).toBe('E_BAD_MESSAGE');
    expect(codeOf(() => parseAgentMessage(evalResult({ numExamples: 2, counts: [0.5] })))).toBe('E_BAD_MESSAGE');
    expect(codeOf(() => parseAgentMessage(evalResult({ numExamples: 2, counts: [1], scores: [0.3] })))).toBe('E_BAD_MESSAGE');
    expect(codeOf(() => parseAgentMessage(evalResult({ numExamples: -1, counts: [] })))).toBe('E_BAD_MESSAGE');
  });
});
