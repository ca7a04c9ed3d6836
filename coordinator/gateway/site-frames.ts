// An admitted site's frame, read: binary frames decoded (sizes and header checked before any
// tensor is built), text frames parsed against their schema, and every signed answer checked
// against the site's key. The result says where the message goes; nothing here decides anything
// about rounds.

import { decodeCompressedUpdate } from '../../shared/compression/wire.js';
import { FedrxError } from '../../shared/errors.js';
import { hashStats } from '../../shared/feature-stats.js';
import { statsBody, streamBody, updateBody, verify, type SignatureDomain } from '../../shared/signing.js';
import { decodeChunkFrame, decodeStreamHeader, type UpdateChunkHeader, type UpdateStreamHeader } from '../../shared/update-chunks.js';
import { hashMasked } from '../../shared/model-hash.js';
import { keysBody, MaskedUpdateHeaderSchema, type SecaggOpened, type SecaggReveal, type SecaggShares } from '../../shared/secagg/wire.js';
import { decodeFrameU32, frameKind } from '../../shared/tensor-codec.js';
import {
  decodeExactProductFrame,
  decodeExactStatsFrame,
  decodeUpdateFrame,
  expectSchema,
  parseAgentMessage,
  type Dispute,
  type Endorsement,
  type TaskError,
} from '../../shared/wire.js';
import type { SiteMessage } from '../phases/phase.js';
import type { SiteDirectory } from './handshake.js';

export type RoutedFrame =
  | { to: 'phase'; msg: SiteMessage }
  | { to: 'task-error'; msg: TaskError }
  | { to: 'endorsement'; msg: Endorsement }
  | { to: 'dispute'; msg: Dispute }
  | { to: 'stream'; header: UpdateStreamHeader }
  | { to: 'chunk'; header: UpdateChunkHeader; values: Float32Array };

/**
 * Attacker-controlled `data`, from the socket of `siteId`, which proved it holds `publicKey`.
 * `maxChunkValues`: the most values a chunk frame may carry now (the open stream's chunk size).
 */
export function readSiteFrame(data: Buffer, isBinary: boolean, site: { siteId: string; publicKey: string }, sites: SiteDirectory, controlBytes: number, maxChunkValues: number): RoutedFrame {
  const signed = (domain: SignatureDomain, body: unknown, signature: string, what: string): void => checkSigned(sites, site, domain, body, signature, what);
  const kind = isBinary ? frameKind(data) : null;
  if (kind === 'update-stream') {
    const header = decodeStreamHeader(data);
    claimsSite(header.siteId, site.siteId, 'update stream');
    signed('update', updateBody(header), header.signature, 'update stream');
    signed('update-stream', streamBody(header), header.streamSignature, 'update stream');
    return { to: 'stream', header };
  }
  // Unsigned: the hash of each chunk is in its signed stream header, checked before it is used.
  if (kind === 'update-chunk') return { to: 'chunk', ...decodeChunkFrame(data, maxChunkValues) };
  if (kind === 'exact-stats' || kind === 'exact-product') {
    const frame = kind === 'exact-stats' ? decodeExactStatsFrame(data) : decodeExactProductFrame(data);
    claimsSite(frame.header.siteId, site.siteId, 'exact-fit answer');
    signed('update', updateBody(frame.header), frame.header.signature, 'exact-fit answer');
    const msg: SiteMessage = frame.header.kind === 'exact-stats' ? { kind: 'exact-stats', header: frame.header, tensors: frame.tensors } : { kind: 'exact-product', header: frame.header, tensors: frame.tensors };
    return { to: 'phase', msg };
  }
  if (kind === 'masked-update') {
    const frame = decodeFrameU32(data);
    const header = expectSchema(MaskedUpdateHeaderSchema, frame.header, 'E_FRAME_HEADER', 'masked-update header');
    claimsSite(header.siteId, site.siteId, 'masked update');
    if (hashMasked(frame.data) !== header.updateHash) throw new FedrxError('E_HASH_MISMATCH', 'updateHash does not match the masked update bytes');
    signed('update', updateBody(header), header.signature, 'masked update');
    return { to: 'phase', msg: { kind: 'masked-update', header, masked: frame.data } };
  }
  if (kind === 'compressed-update') {
    const { header, payload } = decodeCompressedUpdate(data); // its payload checked against updateHash
    claimsSite(header.siteId, site.siteId, 'compressed update');
    signed('update', updateBody(header), header.signature, 'compressed update');
    return { to: 'phase', msg: { kind: 'compressed-update', header, payload, bytes: data.length } };
  }
  if (isBinary) {
    const { header, weights } = decodeUpdateFrame(data);
    claimsSite(header.siteId, site.siteId, 'update');
    signed('update', updateBody(header), header.signature, 'update');
    return { to: 'phase', msg: { kind: 'update', header, weights, bytes: data.length } };
  }
  // The frame header was held to the largest text this state allows; control messages are smaller.
  const msg = parseAgentMessage(data.toString('utf8'), (type) => (type === 'stats-report' ? Infinity : controlBytes));
  switch (msg.type) {
    case 'stats-report': {
      const body = statsBody({ runId: msg.runId, siteId: site.siteId, statsHash: hashStats(msg.stats), rows: msg.stats.rows });
      signed('stats', body, msg.signature, 'statistics report');
      return { to: 'phase', msg: { kind: 'stats-report', msg } };
    }
    case 'eval-result':
      return { to: 'phase', msg: { kind: 'eval-result', msg } };
    case 'secagg-keys':
      claimsSite(msg.siteId, site.siteId, 'secure-aggregation keys');
      signed('secagg-keys', keysBody(msg), msg.signature, 'secure-aggregation keys');
      return { to: 'phase', msg: { kind: 'secagg-keys', msg } };
    case 'secagg-shares':
    case 'secagg-opened':
    case 'secagg-reveal':
      claimsSite(msg.siteId, site.siteId, msg.type);
      return { to: 'phase', msg: secaggAnswer(msg) };
    case 'task-error':
      return { to: 'task-error', msg };
    case 'endorsement':
      return { to: 'endorsement', msg };
    case 'dispute':
      return { to: 'dispute', msg };
    case 'hello':
      throw new FedrxError('E_BAD_MESSAGE', 'hello was already received on this socket');
  }
}

function claimsSite(claimed: string, socketSite: string, what: string): void {
  if (claimed !== socketSite) throw new FedrxError('E_IDENTITY_MISMATCH', `${what} claims site ${claimed} on the socket of site ${socketSite}`);
}

/**
 * Throws unless `signature` is the site's. A signature by another registered site's key is named
 * as such: that site is trying to speak for this one.
 */
function checkSigned(sites: SiteDirectory, site: { siteId: string; publicKey: string }, domain: SignatureDomain, body: unknown, signature: string, what: string): void {
  if (verify(domain, body, signature, site.publicKey)) return;
  const impostor = sites.list().find((s) => s.id !== site.siteId && verify(domain, body, signature, s.publicKey));
  if (impostor !== undefined) {
    throw new FedrxError('E_IDENTITY_MISMATCH', `${what} for site ${site.siteId} is signed with another registered site's key (site ${impostor.id})`);
  }
  throw new FedrxError('E_BAD_SIGNATURE', `${what} signature does not verify under site ${site.siteId}'s key`);
}

function secaggAnswer(msg: SecaggShares | SecaggOpened | SecaggReveal): SiteMessage {
  switch (msg.type) {
    case 'secagg-shares':
      return { kind: msg.type, msg };
    case 'secagg-opened':
      return { kind: msg.type, msg };
    case 'secagg-reveal':
      return { kind: msg.type, msg };
  }
}
