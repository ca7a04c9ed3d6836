// Where a chunked update's chunks go: the aggregator's own chunk-wise entry point when it has one
// (the weighted-mean family folds as chunks arrive, the robust rules write into their buffer), or
// else the update reassembled in memory and handed to accept() whole when its last chunk arrives
// (e.g. a DP round's private sum, which clips each update as a whole): O(model) for that stream.

import { totalParams } from '../../shared/tensors.js';
import type { AcceptResult, Aggregator, ChunkSink, SiteUpdateStart } from './types.js';

export function openStream(aggregator: Aggregator, start: SiteUpdateStart): { accepted: true; sink: ChunkSink } | Extract<AcceptResult, { accepted: false }> {
  if (aggregator.beginStream !== undefined) return aggregator.beginStream(start);
  const { tensors, ...meta } = start;
  let flat: Float32Array | null = new Float32Array(totalParams(tensors));
  const sink: ChunkSink = {
    acceptChunk: (offset, values) => {
      flat!.set(values, offset);
      return { accepted: true };
    },
    end: () => {
      const all = flat!;
      flat = null;
      let at = 0;
      const weights = tensors.map((t) => {
        const n = totalParams([t]);
        const data = all.subarray(at, at + n);
        at += n;
        return { name: t.name, shape: [...t.shape], data };
      });
      return aggregator.accept({ ...meta, weights });
    },
    abort: () => {
      flat = null;
    },
  };
  return { accepted: true, sink };
}
