import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../../trust/audit-log.js';
import { AuditQuery } from '../schemas/audit.js';
import { AuditReply } from '../schemas/responses.js';

export function auditRoutes(app: FastifyInstance, audit: AuditLog): void {
  app.get('/v1/audit/predictions', { schema: { querystring: AuditQuery, response: { 200: AuditReply } }, config: { roles: ['auditor'] } }, async (req) => {
    const q = req.query as AuditQuery;
    return { entries: audit.list(q.from ?? 0, q.limit ?? 1000) };
  });
}
