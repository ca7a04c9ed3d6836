// What error feedback holds back at this site (shared/compression/error-feedback.ts), per run: in
// memory, and on disk in the agent's state folder (`residuals/`, one float32 frame a run, written
// durably after each round), so an agent that restarts mid-run goes on from the residual it held.
// A round trained again (redone after a coordinator crash, its kept answer lost) starts from the
// residual it started from the first time, so nothing is counted twice. The last four runs are kept.

import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { FedrxError, isFedrxError } from '../shared/errors.js';
import { decodeFrame, encodeFrame } from '../shared/tensor-codec.js';
import { expectSchema } from '../shared/wire.js';
import { writeFileDurably } from './durable-file.js';

export const RESIDUALS_DIR = 'residuals';
const RUNS_KEPT = 4;

interface RunResidual {
  round: number;
  /** What the round `round` started from, and what it left. */
  before: Float32Array | null;
  after: Float32Array;
}

const HeaderSchema = Type.Object({ kind: Type.Literal('residual'), runId: Type.String(), round: Type.Integer({ minimum: 1 }), tensors: Type.Array(Type.Unknown()) });
const fileOf = (runId: string): string => `${createHash('sha256').update(`fedrx-residual\0${runId}`).digest('hex')}.frame`;

export class Residuals {
  private readonly runs = new Map<string, RunResidual>();

  /** In memory only (`dir` null), or also in `dir`. */
  private constructor(private readonly dir: string | null) {}

  static inMemory(): Residuals {
    return new Residuals(null);
  }

  /** The residuals kept in `stateDir`, newest last; a file that does not read back is logged and removed. */
  static async open(stateDir: string, log: (line: string) => void): Promise<Residuals> {
    const dir = path.join(stateDir, RESIDUALS_DIR);
    await mkdir(dir, { recursive: true });
    const r = new Residuals(dir);
    const files = await Promise.all((await readdir(dir)).filter((f) => f.endsWith('.frame')).map(async (f) => ({ f, at: (await stat(path.join(dir, f))).mtimeMs })));
    for (const { f } of files.sort((a, b) => a.at - b.at)) {
      try {
        const { header, weights } = decodeFrame(await readFile(path.join(dir, f)));
        const h = expectSchema(HeaderSchema, header, 'E_INTERNAL', f);
        const after = weights.find((t) => t.name === 'after');
        if (after === undefined || fileOf(h.runId) !== f) throw new FedrxError('E_INTERNAL', 'not a residual of the run it names');
        r.runs.set(h.runId, { round: h.round, before: weights.find((t) => t.name === 'before')?.data ?? null, after: after.data });
      } catch (e) {
        log(`residual ${f} in ${dir} is unreadable (${isFedrxError(e) ? e.message : String(e)}); removed`);
        await rm(path.join(dir, f), { force: true });
      }
    }
    await r.forgetBeyond();
    return r;
  }

  /** The residual to add to `round`'s change. */
  carryInto(runId: string, round: number): Float32Array | null {
    const r = this.runs.get(runId);
    if (r === undefined) return null;
    return r.round === round ? r.before : r.after;
  }

  /** What `round` left unsent, once its answer is made; on disk before this resolves. */
  async record(runId: string, round: number, residual: Float32Array): Promise<void> {
    const before = this.carryInto(runId, round);
    this.runs.delete(runId); // re-inserted last: the oldest run is the first one forgotten
    this.runs.set(runId, { round, before, after: residual });
    if (this.dir !== null) {
      const tensor = (name: string, data: Float32Array) => ({ name, shape: [data.length], data });
      const tensors = before === null ? [tensor('after', residual)] : [tensor('before', before), tensor('after', residual)];
      await writeFileDurably(path.join(this.dir, fileOf(runId)), encodeFrame({ kind: 'residual', runId, round }, tensors));
    }
    await this.forgetBeyond();
  }

  private async forgetBeyond(): Promise<void> {
    for (const old of [...this.runs.keys()]) {
      if (this.runs.size <= RUNS_KEPT) break;
      this.runs.delete(old);
      if (this.dir !== null) await rm(path.join(this.dir, fileOf(old)), { force: true });
    }
  }
}
