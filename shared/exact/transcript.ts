// A site's answers over the steps of a federated solve, chained: t_0 = H(a_0), t_i = H(t_{i−1}, a_i)
// with H a domain-separated SHA-256 over the previous link and the answer's statistics hash. The
// site signs each link; the last one, in the ledger, vouches for every answer it gave.

import { createHash } from 'node:crypto';
import { hashStatistics64 } from '../model-hash.js';
import type { NamedTensor64 } from '../tensors.js';

export function nextTranscript(prev: string | null, answer: readonly NamedTensor64[]): string {
  return createHash('sha256')
    .update('fedrx/exact-transcript/v1\0')
    .update(prev ?? '')
    .update('\0')
    .update(hashStatistics64(answer))
    .digest('hex');
}
