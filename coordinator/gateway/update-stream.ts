// One socket's chunked updates (shared/update-chunks.ts) as the gateway receives them. A stream is
// attacker-controlled from header to last chunk: each chunk must be the next one of the open
// stream, of its declared length and SHA-256, before it is handed on; the whole update must hash to
// its signed updateHash before it counts. Whatever goes wrong, the open phase is told to drop the
// stream (an `abort`), which it records as the site's answer; nothing is kept for it here but its
// header and a running hash. A stream that stops arriving is refused after `idleMs` without a chunk.

import { FedrxError, type ErrorCode } from '../../shared/errors.js';
import { StreamingWeightsHash } from '../../shared/model-hash.js';
import { MAX_PARAMS } from '../../shared/tensor-codec.js';
import { chunkHash, chunkLength, type UpdateChunkHeader, type UpdateStreamHeader } from '../../shared/update-chunks.js';
import type { StreamPart, Verdict } from '../phases/phase.js';

export interface StreamReceiverOptions {
  /** Hands one step of a stream to the open phase (the gateway's answer sink). */
  deliver(header: UpdateStreamHeader, part: StreamPart): Verdict;
  /** A stream refused by its deadline: the site is told why. */
  onDeadline(header: UpdateStreamHeader, code: ErrorCode, reason: string): void;
  idleMs: number;
}

interface OpenStream {
  header: UpdateStreamHeader;
  next: number;
  hash: StreamingWeightsHash;
  timer: NodeJS.Timeout;
}

/** What a chunk frame led to: the phase's verdict, or nothing to say (a chunk of a stream already refused). */
export type ChunkOutcome = Verdict | null;

export class UpdateStreamReceiver {
  private open: OpenStream | null = null;
  /** The last stream that is no longer open, so its late chunks are named rightly. */
  private last: { header: UpdateStreamHeader; why: 'refused' | 'ended' } | null = null;

  constructor(private readonly o: StreamReceiverOptions) {}

  /** The most values a chunk may carry now: the open stream's chunk size (otherwise the frame cap bounds it, and it is refused once its header is read). */
  get maxChunkValues(): number {
    return this.open?.header.chunkValues ?? MAX_PARAMS;
  }

  /** A signed stream header (gateway has checked its schema and both signatures). */
  begin(header: UpdateStreamHeader): Verdict {
    if (this.open !== null) this.abort('E_CHUNK_ORDER', `stream ${header.streamId} began before stream ${this.open.header.streamId} ended`);
    const verdict = this.o.deliver(header, { step: 'begin' });
    if (!verdict.accepted) {
      this.last = { header, why: 'refused' };
      return verdict;
    }
    this.open = { header, next: 0, hash: new StreamingWeightsHash(header.update), timer: this.deadline(header) };
    return verdict;
  }

  /** Attacker-controlled: a chunk frame's header and values. Throws a coded error for a chunk that breaks its stream. */
  chunk(ch: UpdateChunkHeader, values: Float32Array): ChunkOutcome {
    const open = this.open;
    if (open === null || open.header.streamId !== ch.streamId) return this.stray(ch);
    const h = open.header;
    if (ch.runId !== h.runId || ch.round !== h.round) {
      throw new FedrxError('E_CHUNK_UNKNOWN', `chunk of stream ${ch.streamId} names run ${ch.runId} round ${ch.round}, the stream is for run ${h.runId} round ${h.round}`);
    }
    const count = h.chunkHashes.length;
    if (ch.index >= count) this.fail('E_CHUNK_COUNT', `chunk ${ch.index} of stream ${h.streamId}, which declared ${count} chunks`);
    if (ch.index < open.next) this.fail('E_CHUNK_ORDER', `chunk ${ch.index} of stream ${h.streamId} arrived twice`);
    if (ch.index > open.next) this.fail('E_CHUNK_ORDER', `chunk ${ch.index} of stream ${h.streamId} arrived before chunk ${open.next}`);
    const want = chunkLength(h, ch.index);
    if (values.length !== want) this.fail('E_CHUNK_COUNT', `chunk ${ch.index} of stream ${h.streamId} holds ${values.length} values, its header declared ${want}`);
    if (chunkHash(values) !== h.chunkHashes[ch.index]) this.fail('E_CHUNK_HASH', `chunk ${ch.index} of stream ${h.streamId} does not match its declared hash`);
    const verdict = this.o.deliver(h, { step: 'chunk', index: ch.index, offset: ch.index * h.chunkValues, values });
    if (!verdict.accepted) return this.closeOpen('refused', verdict);
    open.hash.update(values);
    open.next++;
    open.timer.refresh();
    if (open.next < count) return verdict;
    if (open.hash.digest() !== h.updateHash) this.fail('E_HASH_MISMATCH', `stream ${h.streamId}: updateHash does not match the update's bytes`);
    return this.closeOpen('ended', this.o.deliver(h, { step: 'end' }));
  }

  /** The socket closed: an open stream can never finish. */
  close(why: string): void {
    if (this.open !== null) this.abort('E_STREAM_TRUNCATED', `connection closed after ${this.open.next} of ${this.open.header.chunkHashes.length} chunks: ${why}`);
  }

  private stray(ch: UpdateChunkHeader): ChunkOutcome {
    const last = this.last;
    if (last === null || last.header.streamId !== ch.streamId) {
      const what = this.open === null ? 'no stream is open' : `the open stream is ${this.open.header.streamId}`;
      throw new FedrxError('E_CHUNK_UNKNOWN', `chunk ${ch.index} of stream ${ch.streamId}: ${what}`);
    }
    // The site was told once, when its stream was refused; the chunks it had in flight are dropped quietly.
    if (last.why === 'refused') return null;
    throw new FedrxError('E_CHUNK_COUNT', `chunk ${ch.index} of stream ${ch.streamId}, which ended after its ${last.header.chunkHashes.length} chunks`);
  }

  private deadline(header: UpdateStreamHeader): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const open = this.open;
      if (open === null || open.header !== header) return;
      const reason = `stream ${header.streamId}: no chunk for ${this.o.idleMs / 1000} s after ${open.next} of ${header.chunkHashes.length}`;
      this.abort('E_STREAM_DEADLINE', reason);
      this.o.onDeadline(header, 'E_STREAM_DEADLINE', reason);
    }, this.o.idleMs);
    timer.unref();
    return timer;
  }

  /** Aborts the open stream and throws: the gateway answers the site with the code. */
  private fail(code: ErrorCode, reason: string): never {
    this.abort(code, reason);
    throw new FedrxError(code, reason);
  }

  private abort(code: ErrorCode, reason: string): void {
    const open = this.open;
    if (open === null) return;
    this.closeOpen('refused', null);
    this.o.deliver(open.header, { step: 'abort', code, reason });
  }

  private closeOpen<T>(why: 'refused' | 'ended', result: T): T {
    if (this.open !== null) {
      clearTimeout(this.open.timer);
      this.last = { header: this.open.header, why };
    }
    this.open = null;
    return result;
  }
}
