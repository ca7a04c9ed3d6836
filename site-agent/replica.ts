// The site's own copy of the coordinator's ledger, so a hospital can prove what its data helped
// train without trusting the coordinator: an append-only JSON-lines file, verified in full when
// opened and link by link on every append. An entry that would rewrite or skip what the replica
// holds is refused before anything is written.

import { mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { FedrxError, isFedrxError } from '../shared/errors.js';
import { computeEntryHash, entryProblem, LedgerEntrySchema, verifyChain, type LedgerEntry } from '../shared/ledger.js';
import { expectSchema } from '../shared/wire.js';

export const REPLICA_FILE = 'ledger.jsonl';

export interface ReplicaHead {
  length: number;
  headHash: string;
}

/** Why an append was refused, in E_REPLICA_DIVERGED details: a rewrite is hostile, a gap is not. */
export type DivergenceKind = 'rewrite' | 'bad-link' | 'gap';

export class Replica {
  private held: LedgerEntry[];
  private headHash: string;
  /** Appends run one after another, each against the state the previous one left. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly file: string,
    entries: LedgerEntry[],
    headHash: string,
  ) {
    this.held = entries;
    this.headHash = headHash;
  }

  /** Loads and re-verifies the whole chain; refuses (E_LEDGER_BROKEN) to start on a bad file. */
  static async open(dir: string): Promise<Replica> {
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, REPLICA_FILE);
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const entries = lines.map((line, i) => parseLine(file, line, i));
    const check = verifyChain(entries);
    if (!check.ok) {
      throw new FedrxError(
        'E_LEDGER_BROKEN',
        `replica ${file} does not verify at index ${check.badIndex}: ${check.reason}; refusing to start`,
        { badIndex: check.badIndex },
      );
    }
    return new Replica(file, entries, check.headHash);
  }

  head(): ReplicaHead {
    return { length: this.held.length, headHash: this.headHash };
  }

  entries(): readonly LedgerEntry[] {
    return this.held;
  }

  /**
   * Appends the entries that extend the chain, fsync-ed, and returns how many were new.
   * Entries the replica already holds (same index, same hash) are skipped: re-sends are harmless.
   * Throws E_REPLICA_DIVERGED, writing nothing, if any entry differs from one held, does not
   * link to its predecessor, or leaves a gap.
   */
  append(entries: readonly unknown[]): Promise<number> {
    const run = this.queue.then(() => this.appendNow(entries));
    this.queue = run.catch(() => {});
    return run;
  }

  private async appendNow(entries: readonly unknown[]): Promise<number> {
    const fresh: LedgerEntry[] = [];
    for (const [i, raw] of entries.entries()) {
      const entry = expectSchema(LedgerEntrySchema, raw, 'E_BAD_MESSAGE', `ledger entry ${i} of the batch`);
      const position = this.held.length + fresh.length;
      if (entry.index < position) {
        const known = entry.index < this.held.length ? this.held[entry.index]! : fresh[entry.index - this.held.length]!;
        // Same hash and contents that really hash to it: a re-send of what is held.
        if (known.entryHash === entry.entryHash && computeEntryHash(entry) === entry.entryHash) continue;
        throw diverged('rewrite', entry.index, `entry ${entry.index} differs from the one this replica holds`);
      }
      if (entry.index > position) {
        throw diverged('gap', entry.index, `entry ${entry.index} arrived but the replica holds only ${position} entries`);
      }
      const prev = fresh.length > 0 ? fresh[fresh.length - 1]! : (this.held[this.held.length - 1] ?? null);
      const problem = entryProblem(entry, position, prev);
      if (problem !== null) throw diverged('bad-link', position, `entry ${position} does not extend the replica: ${problem}`);
      fresh.push(entry);
    }
    if (fresh.length === 0) return 0;
    await this.write(fresh.map((e) => JSON.stringify(e) + '\n').join(''));
    this.held.push(...fresh);
    this.headHash = fresh[fresh.length - 1]!.entryHash;
    return fresh.length;
  }

  /** One write + fsync; on failure the file is cut back so it never holds half a batch. */
  private async write(text: string): Promise<void> {
    const creating = this.held.length === 0;
    const fh = await open(this.file, 'a');
    const { size } = await fh.stat();
    try {
      await fh.write(text);
      await fh.sync();
    } catch (e) {
      await fh.truncate(size).catch(() => {});
      throw e;
    } finally {
      await fh.close();
    }
    if (creating) await syncDir(path.dirname(this.file));
  }
}

function parseLine(file: string, line: string, index: number): LedgerEntry {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new FedrxError('E_LEDGER_BROKEN', `replica ${file}: entry at index ${index} is not valid JSON; refusing to start`, {
      badIndex: index,
    });
  }
  try {
    return expectSchema(LedgerEntrySchema, value, 'E_LEDGER_BROKEN', `replica entry at index ${index}`);
  } catch (e) {
    if (!isFedrxError(e)) throw e;
    throw new FedrxError('E_LEDGER_BROKEN', `${file}: ${e.message}; refusing to start`, { badIndex: index });
  }
}

function diverged(kind: DivergenceKind, index: number, message: string): FedrxError {
  return new FedrxError('E_REPLICA_DIVERGED', message, { kind, index });
}

/** Makes a newly created file's directory entry durable; not every platform allows it. */
async function syncDir(dir: string): Promise<void> {
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // best effort (e.g. Windows cannot open directories)
  }
}
