// The answers kept for redone rounds: keyed by the whole task, byte for byte, bounded per kind,
// kept across a restart, and a damaged folder costs a training, never a start.

import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ANSWERS_DIR, ANSWERS_KEPT, answerKey, AnswerStore } from '../../site-agent/answer-store.js';
import { prepOf, tempDir, warfarinRows, warfarinStudy, type TempDir } from './helpers.js';

const study = warfarinStudy();
const header = {
  kind: 'train' as const,
  runId: 'run-1',
  round: 3,
  modelHash: 'a'.repeat(64),
  config: { study, preprocessing: prepOf(study, warfarinRows(30, 1)), training: { localEpochs: 1, lr: 0.01, lrDecay: 1, batchSize: 16, optimizer: 'adam' as const, seed: 1 }, proximalMu: 0 },
};

let tmp: TempDir | undefined;
afterEach(() => {
  tmp?.cleanup();
  tmp = undefined;
});

async function open(lines: string[] = []): Promise<AnswerStore> {
  tmp ??= tempDir('answers-');
  return AnswerStore.open(tmp.dir, (l) => lines.push(l));
}

describe('answerKey', () => {
  it('is the same for the same task and differs when any part of it does', () => {
    const key = answerKey(header);
    expect(answerKey(structuredClone(header))).toBe(key);
    const others = [
      { ...header, kind: 'evaluate' as const },
      { ...header, runId: 'run-2' },
      { ...header, round: 4 },
      { ...header, modelHash: 'b'.repeat(64) },
      { ...header, config: { ...header.config, training: { ...header.config.training, lr: 0.02 } } },
      { ...header, config: { ...header.config, proximalMu: 0.01 } },
    ];
    expect(new Set([key, ...others.map(answerKey)]).size).toBe(others.length + 1);
  });
});

describe('AnswerStore', () => {
  it('gives back exactly the bytes kept, also after a restart', async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 254, 70, 82, 88, 49]);
    const store = await open();
    expect(await store.get('train', 'c'.repeat(64))).toBeNull();
    await store.put('train', 'c'.repeat(64), bytes);
    await store.put('evaluate', 'c'.repeat(64), '{"type":"eval-result"}');
    expect((await store.get('train', 'c'.repeat(64)))!.equals(bytes)).toBe(true);
    const reopened = await open();
    expect((await reopened.get('train', 'c'.repeat(64)))!.equals(bytes)).toBe(true);
    expect((await reopened.get('evaluate', 'c'.repeat(64)))!.toString('utf8')).toBe('{"type":"eval-result"}');
  });

  it('keeps only the latest answers of each kind, and their files only', async () => {
    const store = await open();
    const keys = ['1', '2', '3', '4', '5', '6'].map((c) => c.repeat(64));
    for (const k of keys) await store.put('train', k, Buffer.from(k));
    for (const k of keys) await store.put('evaluate', k, k);
    await store.put('train', keys[4]!, Buffer.from('again')); // the same task again replaces its answer
    const held = async (kind: 'train' | 'evaluate') => (await Promise.all(keys.map((k) => store.get(kind, k)))).map((b) => b?.toString('utf8') ?? null);
    expect(ANSWERS_KEPT).toEqual({ train: 2, evaluate: 4 });
    expect(await held('train')).toEqual([null, null, null, null, 'again', keys[5]]);
    expect(await held('evaluate')).toEqual([null, null, keys[2], keys[3], keys[4], keys[5]]);
    expect(readdirSync(store.dir).sort()).toEqual([
      ...[2, 3, 4, 5].map((i) => `evaluate-${keys[i]}.json`),
      'index.json',
      `train-${keys[4]}.frame`,
      `train-${keys[5]}.frame`,
    ]);
  });

  it('starts without its answers when the index is damaged, and clears what it does not name', async () => {
    const store = await open();
    await store.put('train', 'd'.repeat(64), Buffer.from('update'));
    writeFileSync(path.join(store.dir, 'index.json'), '{"answers": [{"kind": "train", "key": "../../etc"}]}');
    writeFileSync(path.join(store.dir, 'train-x.frame.tmp'), 'a write cut short');
    const lines: string[] = [];
    const reopened = await open(lines);
    expect(lines).toEqual([expect.stringMatching(/^answers kept in .*answers are unreadable \(.*index\.json.*\); starting without them$/)]);
    expect(await reopened.get('train', 'd'.repeat(64))).toBeNull();
    expect(readdirSync(reopened.dir)).toEqual(['index.json']);
    expect(existsSync(path.join(tmp!.dir, ANSWERS_DIR, `train-${'d'.repeat(64)}.frame`))).toBe(false);
  });
});
