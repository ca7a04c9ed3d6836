import type { FastifyInstance } from 'fastify';
import { createHash } from 'node:crypto';
import { FedrxError } from '../../../shared/errors.js';
import { refuseWhenReadOnly } from '../http-errors.js';
import { parsePublicKey } from '../../../shared/key-files.js';
import type { Gateway } from '../../gateway/gateway.js';
import { RegisterSiteBody, SiteIdParams } from '../schemas/sites.js';
import type { SiteRecord } from '../../store/site-registry.js';
import type { Store } from '../../store/store.js';
import { ErrorReply, SiteChangeReply, SiteListReply } from '../schemas/responses.js';

/** SHA-256 of the raw Ed25519 public key, first 8 bytes as colon-separated hex: short enough to read out over the phone. */
export const keyFingerprint = (publicKeyHex: string): string =>
  createHash('sha256').update(Buffer.from(publicKeyHex, 'hex')).digest('hex').slice(0, 16).match(/../g)!.join(':');

/** `gateway` null: a read-only coordinator, which lists its sites but changes none. */
export function siteRoutes(app: FastifyInstance, store: Store, gateway: Gateway | null): void {
  const connected = () => new Map((gateway?.connectedSites() ?? []).map((c) => [c.siteId, c]));
  const view = (s: SiteRecord, live = connected()) => ({
    id: s.id,
    publicKey: s.publicKey,
    keyFingerprint: keyFingerprint(s.publicKey),
    revoked: s.revokedAt !== null,
    revokedAt: s.revokedAt,
    connected: live.has(s.id),
    connectedAt: live.get(s.id)?.connectedAt ?? null,
    backend: live.get(s.id)?.backend ?? null,
    // Round trip of the last heartbeat: a site busy training still answers within milliseconds.
    pingMs: live.get(s.id)?.pingMs ?? null,
    lastSeenAt: s.lastSeenAt,
  });

  app.get('/v1/sites', { schema: { response: { 200: SiteListReply } }, config: { roles: ['admin', 'data-scientist', 'auditor'] } }, async () => {
    const live = connected();
    return { sites: store.sites.list().map((s) => view(s, live)) };
  });

  const writable = refuseWhenReadOnly(gateway === null, 'sites cannot be registered or revoked');

  /** Enrols a site by its public key (or re-keys or reinstates it). */
  app.post('/v1/sites', { schema: { body: RegisterSiteBody, response: { 200: SiteChangeReply, 201: SiteChangeReply, 400: ErrorReply } }, preValidation: writable, config: { roles: ['admin'] } }, async (req, reply) => {
    const body = req.body as RegisterSiteBody;
    let key: string;
    try {
      key = parsePublicKey(body.publicKey, 'publicKey');
    } catch (e) {
      throw new FedrxError('E_BAD_REQUEST', (e as Error).message);
    }
    const { site, change } = store.sites.register(body.siteId, key);
    // A new key must prove itself: the connection made with the old one is closed.
    if (change === 'rekeyed') gateway!.disconnect(site.id, 'E_SITE_REKEYED', `site ${site.id} was given a new key`);
    return reply.status(change === 'registered' ? 201 : 200).send({ change, site: view(site) });
  });

  /** Revokes a site: refused from now on, its open connection closed; its past signatures stay valid. */
  app.delete('/v1/sites/:id', { schema: { params: SiteIdParams, response: { 200: SiteChangeReply, 404: ErrorReply } }, preValidation: writable, config: { roles: ['admin'] } }, async (req) => {
    const { id } = req.params as SiteIdParams;
    const site = store.sites.revoke(id);
    gateway!.disconnect(id, 'E_SITE_REVOKED', `site ${id} was revoked`);
    return { site: view(site) };
  });
}
