// The answers this site last sent to train and evaluate tasks, byte for byte, in the agent's state
// folder (`answers/` beside the replica). A coordinator that redoes a round (it crashed before
// committing it, or the answer was lost with the connection) gets the very same signed update back
// instead of a second training, also after the agent restarted. Only the latest few are kept.

import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { canonicalJson } from '../shared/canonical-json.js';
import { isFedrxError } from '../shared/errors.js';
import { parseJsonFile } from '../shared/json-file.js';
import type { TaskHeader } from '../shared/wire.js';
import { writeFileDurably } from './durable-file.js';

export type AnswerKind = TaskHeader['kind'];
export const ANSWERS_DIR = 'answers';
const INDEX_FILE = 'index.json';
/** Per kind: a redone round is the one in flight, so the latest answers are the ones asked again. */
export const ANSWERS_KEPT: Readonly<Record<AnswerKind, number>> = { train: 2, evaluate: 4 };

const IndexSchema = Type.Object(
  {
    /** Oldest first. */
    answers: Type.Array(
      Type.Object({ kind: Type.Union([Type.Literal('train'), Type.Literal('evaluate')]), key: Type.String({ pattern: '^[0-9a-f]{64}$' }) }, { additionalProperties: false }),
      { maxItems: 64 },
    ),
  },
  { additionalProperties: false },
);
type Kept = { kind: AnswerKind; key: string };

/** What makes two tasks the same: kind, run, round, the model's hash and the whole task config. */
export function answerKey(header: Pick<TaskHeader, 'kind' | 'runId' | 'round' | 'modelHash' | 'config'>): string {
  const { kind, runId, round, modelHash, config } = header;
  return createHash('sha256').update(`fedrx-task\0${canonicalJson({ kind, runId, round, modelHash, config })}`).digest('hex');
}

const fileOf = (a: Kept): string => `${a.kind}-${a.key}.${a.kind === 'train' ? 'frame' : 'json'}`;

export class AnswerStore {
  private constructor(
    readonly dir: string,
    private kept: Kept[],
  ) {}

  /**
   * The answers kept in `stateDir`. An unreadable index is logged and forgotten (the worst that
   * follows is one training more); files the index does not name, from a write cut short, go.
   */
  static async open(stateDir: string, log: (line: string) => void): Promise<AnswerStore> {
    const dir = path.join(stateDir, ANSWERS_DIR);
    await mkdir(dir, { recursive: true });
    const indexFile = path.join(dir, INDEX_FILE);
    let kept: Kept[] = [];
    try {
      kept = parseJsonFile(IndexSchema, await readFile(indexFile, 'utf8'), 'E_INTERNAL', indexFile).answers;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log(`answers kept in ${dir} are unreadable (${isFedrxError(e) ? e.message : String(e)}); starting without them`);
    }
    const named = new Set([INDEX_FILE, ...kept.map(fileOf)]);
    for (const f of await readdir(dir)) if (!named.has(f)) await rm(path.join(dir, f), { force: true });
    return new AnswerStore(dir, kept);
  }

  /** The bytes sent for this task, or null. */
  async get(kind: AnswerKind, key: string): Promise<Buffer | null> {
    const a = this.kept.find((x) => x.kind === kind && x.key === key);
    if (a === undefined) return null;
    try {
      return await readFile(path.join(this.dir, fileOf(a)));
    } catch {
      return null; // removed by hand: computed afresh
    }
  }

  /** Keeps `bytes` as the answer to this task; the oldest of its kind beyond the bound are removed. */
  async put(kind: AnswerKind, key: string, bytes: string | Uint8Array): Promise<void> {
    const a = { kind, key };
    await writeFileDurably(path.join(this.dir, fileOf(a)), bytes);
    const next = [...this.kept.filter((x) => !(x.kind === kind && x.key === key)), a];
    const ofKind = next.filter((x) => x.kind === kind);
    const dropped = ofKind.slice(0, Math.max(0, ofKind.length - ANSWERS_KEPT[kind]));
    this.kept = next.filter((x) => !dropped.includes(x));
    await writeFileDurably(path.join(this.dir, INDEX_FILE), JSON.stringify({ answers: this.kept }) + '\n');
    for (const d of dropped) await rm(path.join(this.dir, fileOf(d)), { force: true });
  }
}
