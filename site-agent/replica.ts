// The site's own copy of the coordinator's ledger, so a hospital can prove what its data helped
// train without trusting the coordinator: an append-only JSON-lines file, verified in full when
// opened and link by link on every append. An entry that would rewrite or skip what the replica
// holds, or that another coordinator key signed than the one pinned, is refused before anything
// is written. Beside it: the pinned coordinator key and this site's own endorsements.

import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FedrxError, isFedrxError } from '../shared/errors.js';
import { computeEntryHash, entryProblem, LedgerEntrySchema, verifyChain, type LedgerEntry } from '../shared/ledger.js';
import { headSigned, SignedHeadSchema, type SignedHead } from '../shared/ledger-head.js';
import { parseJsonFile } from '../shared/json-file.js';
import { expectSchema } from '../shared/wire.js';
import { Type } from '@sinclair/typebox';

export const REPLICA_FILE = 'ledger.jsonl';
export const REPLICA_META_FILE = 'replica.json';
export const ENDORSEMENTS_FILE = 'endorsements.jsonl';

/** What the site pinned: the coordinator's ledger key, learnt on first contact or given by its admin. */
export interface ReplicaMeta {
  coordinatorKey: string | null;
  /** Whose replica this is, so `fedrx ledger verify --replica` can check the site's own signatures. */
  site?: { siteId: string; publicKey: string };
  /** The longest head the coordinator has signed to this site (at its welcome): it may not shrink later. */
  coordinatorHead?: SignedHead;
}

/** This site's endorsement of an entry, as it sent it. */
export interface OwnEndorsement {
  index: number;
  entryHash: string;
  signature: string;
}

export interface ReplicaHead {
  length: number;
  headHash: string;
}

/** Why an append was refused, in E_REPLICA_DIVERGED details: a rewrite is hostile, a gap is not. */
export type DivergenceKind = 'rewrite' | 'bad-link' | 'gap' | 'foreign-key';

/**
 * Hands back one shared copy of an entry already checked: many virtual sites in one process (the
 * simulator) would otherwise each hold their own copy of every entry.
 */
export interface EntryPool {
  intern(entry: LedgerEntry): LedgerEntry;
  /**
   * `compute()`'s answer for this object and key, computed once: sites handed one shared parse of
   * a message (AgentOptions.parseMessage) check its entries once between them.
   */
  once<T>(of: object, key: string, compute: () => T): T;
}

export class Replica {
  private held: LedgerEntry[];
  private headHash: string;
  /** Appends run one after another, each against the state the previous one left. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    entries: LedgerEntry[],
    headHash: string,
    private meta: ReplicaMeta,
    private readonly endorsed: OwnEndorsement[],
    private readonly pool: EntryPool | null,
  ) {
    this.held = entries;
    this.headHash = headHash;
  }

  get file(): string {
    return path.join(this.dir, REPLICA_FILE);
  }

  /**
   * Loads and re-verifies the whole chain, signatures included; refuses (E_LEDGER_BROKEN) to start
   * on a bad file, and (E_COORDINATOR_KEY) when `coordinatorKey` contradicts the key pinned here.
   */
  static async open(dir: string, opts: { coordinatorKey?: string; site?: { siteId: string; publicKey: string }; pool?: EntryPool } = {}): Promise<Replica> {
    await mkdir(dir, { recursive: true });
    const { entries, meta, endorsements } = await readReplicaDir(dir);
    const file = path.join(dir, REPLICA_FILE);
    const check = verifyChain(entries);
    if (!check.ok) {
      throw new FedrxError(
        'E_LEDGER_BROKEN',
        `replica ${file} does not verify at index ${check.badIndex}: ${check.reason}; refusing to start`,
        { badIndex: check.badIndex },
      );
    }
    if (opts.coordinatorKey !== undefined && meta.coordinatorKey !== null && meta.coordinatorKey !== opts.coordinatorKey) {
      throw new FedrxError('E_COORDINATOR_KEY', `${path.join(dir, REPLICA_META_FILE)} pins coordinator key ${meta.coordinatorKey}, not the ${opts.coordinatorKey} given`);
    }
    const replica = new Replica(dir, opts.pool === undefined ? entries : entries.map((e) => opts.pool!.intern(e)), check.headHash, meta, endorsements, opts.pool ?? null);
    if (opts.site !== undefined && (meta.site?.siteId !== opts.site.siteId || meta.site.publicKey !== opts.site.publicKey)) {
      await replica.writeMeta({ ...replica.meta, site: opts.site });
    }
    if (meta.coordinatorKey === null && opts.coordinatorKey !== undefined) await replica.pinCoordinator(opts.coordinatorKey);
    const foreign = entries.find((e) => e.coordinatorKey !== replica.meta.coordinatorKey);
    if (foreign !== undefined && replica.meta.coordinatorKey !== null) {
      throw new FedrxError('E_LEDGER_BROKEN', `replica ${file}: entry ${foreign.index} is signed by another coordinator key than the pinned one`, {
        badIndex: foreign.index,
      });
    }
    return replica;
  }

  /** The coordinator key this replica trusts, or null before first contact. */
  coordinatorKey(): string | null {
    return this.meta.coordinatorKey;
  }

  /** Pins the coordinator's key (trust on first use, or as given by the site's admin). */
  async pinCoordinator(key: string): Promise<void> {
    if (this.meta.coordinatorKey === key) return;
    if (this.meta.coordinatorKey !== null) throw new FedrxError('E_COORDINATOR_KEY', `this replica already pins coordinator key ${this.meta.coordinatorKey}`);
    await this.writeMeta({ ...this.meta, coordinatorKey: key });
  }

  private async writeMeta(meta: ReplicaMeta): Promise<void> {
    const file = path.join(this.dir, REPLICA_META_FILE);
    await writeFile(`${file}.tmp`, JSON.stringify(meta, null, 2) + '\n');
    await rename(`${file}.tmp`, file);
    this.meta = meta;
  }

  /** The longest head the coordinator signed to this site, if any. */
  coordinatorHead(): SignedHead | null {
    return this.meta.coordinatorHead ?? null;
  }

  /**
   * Keeps a head the coordinator signed with the pinned key, if it is longer than the one kept.
   * Throws E_REPLICA_DIVERGED, keeping nothing, for one shorter than a head it signed before.
   */
  async recordCoordinatorHead(head: SignedHead): Promise<void> {
    if (head.coordinatorKey !== this.meta.coordinatorKey || !headSigned(head)) {
      throw new FedrxError('E_COORDINATOR_KEY', 'the ledger head is not signed by the pinned coordinator key');
    }
    const kept = this.meta.coordinatorHead;
    if (kept !== undefined && head.length < kept.length) {
      throw diverged('rewrite', head.length, `the coordinator's ledger has ${head.length} entries, but it signed a head of ${kept.length} entries on ${kept.recordedAt}`);
    }
    if (kept !== undefined && head.length === kept.length && head.headHash !== kept.headHash) {
      throw diverged('rewrite', head.length - 1, `the coordinator's head at ${head.length} entries differs from the one it signed on ${kept.recordedAt}`);
    }
    if (kept === undefined || head.length > kept.length) await this.writeMeta({ ...this.meta, coordinatorHead: head });
  }

  ownEndorsements(): readonly OwnEndorsement[] {
    return this.endorsed;
  }

  /** Keeps a copy of an endorsement this site signed, so an auditor of the site can check it later. */
  async recordEndorsement(e: OwnEndorsement): Promise<void> {
    await appendDurably(path.join(this.dir, ENDORSEMENTS_FILE), JSON.stringify(e) + '\n');
    this.endorsed.push(e);
  }

  head(): ReplicaHead {
    return { length: this.held.length, headHash: this.headHash };
  }

  entries(): readonly LedgerEntry[] {
    return this.held;
  }

  /**
   * Appends the entries that extend the chain, fsync-ed, and returns those that were new.
   * Entries the replica already holds (same index, same hash) are skipped: re-sends are harmless.
   * Throws E_REPLICA_DIVERGED, writing nothing, if any entry differs from one held, does not
   * link to its predecessor, or leaves a gap.
   */
  append(entries: readonly unknown[]): Promise<LedgerEntry[]> {
    const run = this.queue.then(() => this.appendNow(entries));
    this.queue = run.catch(() => {});
    return run;
  }

  private async appendNow(entries: readonly unknown[]): Promise<LedgerEntry[]> {
    const fresh: LedgerEntry[] = [];
    const once = <T>(of: unknown, key: string, compute: () => T): T => (this.pool === null || typeof of !== 'object' || of === null ? compute() : this.pool.once(of, key, compute));
    for (const [i, raw] of entries.entries()) {
      const entry = once(raw, 'schema', () => expectSchema(LedgerEntrySchema, raw, 'E_BAD_MESSAGE', `ledger entry ${i} of the batch`));
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
      const problem = once(entry, `${position}:${prev?.entryHash ?? ''}`, () => entryProblem(entry, position, prev));
      if (problem !== null) throw diverged('bad-link', position, `entry ${position} does not extend the replica: ${problem}`);
      const pinned = this.meta.coordinatorKey ?? fresh[0]?.coordinatorKey ?? this.held[0]?.coordinatorKey ?? entry.coordinatorKey;
      if (entry.coordinatorKey !== pinned) {
        throw diverged('foreign-key', position, `entry ${position} is signed by coordinator key ${entry.coordinatorKey}, not the pinned ${pinned}`);
      }
      fresh.push(entry);
    }
    if (fresh.length === 0) return [];
    if (this.meta.coordinatorKey === null) await this.pinCoordinator(fresh[0]!.coordinatorKey);
    await appendDurably(this.file, fresh.map((e) => once(e, 'json', () => JSON.stringify(e)) + '\n').join(''));
    this.held.push(...(this.pool === null ? fresh : fresh.map((e) => this.pool!.intern(e))));
    this.headHash = fresh[fresh.length - 1]!.entryHash;
    return fresh;
  }
}

/** One write + fsync; on failure the file is cut back so it never holds half a batch. */
async function appendDurably(file: string, text: string): Promise<void> {
  const fh = await open(file, 'a');
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
  if (size === 0) await syncDir(path.dirname(file));
}

async function readOptional(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    return '';
  }
}

const jsonLines = (text: string): string[] => text.split('\n').filter((l, i, all) => !(l === '' && i === all.length - 1));

/** Everything in a replica folder, parsed but not yet verified: for opening it and for auditing it. */
export async function readReplicaDir(dir: string): Promise<{ entries: LedgerEntry[]; meta: ReplicaMeta; endorsements: OwnEndorsement[] }> {
  const file = path.join(dir, REPLICA_FILE);
  const entries = jsonLines(await readOptional(file)).map((line, i) => parseLine(file, line, i));
  const metaText = await readOptional(path.join(dir, REPLICA_META_FILE));
  const meta = metaText === '' ? { coordinatorKey: null } : parseMeta(path.join(dir, REPLICA_META_FILE), metaText);
  const endorsementsFile = path.join(dir, ENDORSEMENTS_FILE);
  const endorsements = jsonLines(await readOptional(endorsementsFile)).map((line, i) => {
    try {
      return expectSchema(OwnEndorsementSchema, JSON.parse(line), 'E_LEDGER_BROKEN', `${endorsementsFile} line ${i + 1}`);
    } catch (e) {
      if (isFedrxError(e)) throw e;
      throw new FedrxError('E_LEDGER_BROKEN', `${endorsementsFile} line ${i + 1} is not valid JSON`);
    }
  });
  return { entries, meta, endorsements };
}

const OwnEndorsementSchema = Type.Object(
  { index: Type.Integer({ minimum: 0 }), entryHash: Type.String({ pattern: '^[0-9a-f]{64}$' }), signature: Type.String({ pattern: '^[0-9a-f]{128}$' }) },
  { additionalProperties: false },
);

const Key = Type.String({ pattern: '^[0-9a-f]{64}$' });
const ReplicaMetaSchema = Type.Object(
  {
    coordinatorKey: Type.Union([Key, Type.Null()]),
    site: Type.Optional(Type.Object({ siteId: Type.String({ minLength: 1, maxLength: 128 }), publicKey: Key }, { additionalProperties: false })),
    coordinatorHead: Type.Optional(SignedHeadSchema),
  },
  { additionalProperties: false },
);

const parseMeta = (file: string, text: string): ReplicaMeta => parseJsonFile(ReplicaMetaSchema, text, 'E_LEDGER_BROKEN', file);

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
