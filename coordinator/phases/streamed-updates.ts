// The chunked updates of one training phase, by site: each stream's sink (strategies/stream-sink.ts)
// from its accepted header to its end or abort. A stream's end is the site's answer, as a one-frame
// update is; a refused chunk or a failed stream is its refusal. Streams still open when the phase
// closes are aborted, so none outlives its round in memory or on disk.

import type { UpdateStreamHeader } from '../../shared/update-chunks.js';
import { openStream } from '../strategies/stream-sink.js';
import type { Aggregator, ChunkSink } from '../strategies/types.js';
import { childHeadRefusal } from './child-head.js';
import { admissionRefusal, refuse, type StreamPart, type Verdict } from './phase.js';
import type { RoundCollector } from './round-collector.js';

interface Open {
  header: UpdateStreamHeader;
  sink: ChunkSink;
  chunks: number;
}

export class StreamedUpdates<T> {
  private readonly open = new Map<string, Open>();

  constructor(
    private readonly collector: RoundCollector<T>,
    private readonly aggregator: Aggregator,
    /** What the collector records for a site whose stream ended and was accepted. */
    private readonly report: (header: UpdateStreamHeader) => T,
  ) {}

  accept(siteId: string, header: UpdateStreamHeader, part: StreamPart): Verdict {
    if (part.step === 'begin') return this.begin(siteId, header);
    const s = this.open.get(siteId);
    if (s === undefined || s.header.streamId !== header.streamId) {
      return { accepted: false, code: 'E_CHUNK_UNKNOWN', reason: `stream ${header.streamId} is not open in round ${this.collector.round}` };
    }
    switch (part.step) {
      case 'chunk': {
        const verdict = s.sink.acceptChunk(part.offset, part.values);
        if (verdict.accepted) {
          s.chunks++;
          return verdict;
        }
        this.drop(siteId, s);
        return refuse(this.collector, siteId, verdict.code, verdict.reason);
      }
      case 'end': {
        this.open.delete(siteId);
        const verdict = s.sink.end();
        if (!verdict.accepted) return refuse(this.collector, siteId, verdict.code, verdict.reason);
        this.collector.record(siteId, { kind: 'ok', value: this.report(header) });
        return verdict;
      }
      case 'abort':
        this.drop(siteId, s);
        return refuse(this.collector, siteId, part.code, part.reason);
    }
  }

  /** The phase is over: every stream still open is dropped and recorded as refused by the round's deadline. */
  abortAll(): void {
    for (const [siteId, s] of this.open) {
      this.drop(siteId, s);
      refuse(this.collector, siteId, 'E_STREAM_DEADLINE', `the round closed after ${s.chunks} of ${s.header.chunkHashes.length} chunks of its update`);
    }
  }

  private begin(siteId: string, header: UpdateStreamHeader): Verdict {
    const early = admissionRefusal(this.collector, siteId, header, 'training');
    if (early !== null) return early;
    const child = childHeadRefusal(header.childHead);
    if (child !== null) return refuse(this.collector, siteId, child.code, child.reason);
    if (this.open.has(siteId)) return { accepted: false, code: 'E_DUPLICATE_UPDATE', reason: 'the site already has an update streaming this round' };
    const { siteId: _claimed, runId, round, baseModelHash, numExamples, updateHash, update } = header;
    const opened = openStream(this.aggregator, { siteId, runId, round, baseModelHash, numExamples, updateHash, tensors: update });
    if (!opened.accepted) return refuse(this.collector, siteId, opened.code, opened.reason);
    this.open.set(siteId, { header, sink: opened.sink, chunks: 0 });
    return { accepted: true };
  }

  private drop(siteId: string, s: Open): void {
    this.open.delete(siteId);
    s.sink.abort();
  }
}
