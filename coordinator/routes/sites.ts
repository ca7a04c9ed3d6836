import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../gateway.js';
import type { Store } from '../store.js';

export function siteRoutes(app: FastifyInstance, store: Store, gateway: Gateway): void {
  app.get('/v1/sites', { config: { roles: ['admin', 'data-scientist', 'auditor'] } }, async () => {
    const live = new Map(gateway.connectedSites().map((s) => [s.siteId, s]));
    return {
      sites: store.listSites().map((s) => ({
        id: s.id,
        connected: live.has(s.id),
        connectedAt: live.get(s.id)?.connectedAt ?? null,
        backend: live.get(s.id)?.backend ?? null,
        lastSeenAt: s.lastSeenAt,
      })),
    };
  });
}
