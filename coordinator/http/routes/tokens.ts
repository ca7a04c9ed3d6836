// Admin routes for API tokens: create (the secret is in this answer only), list, revoke. A
// read-only coordinator lists them but changes nothing.

import type { FastifyInstance } from 'fastify';
import { readOnlyError } from '../http-errors.js';
import { FedrxError } from '../../../shared/errors.js';
import { CreateTokenBody, TokenIdParams } from '../schemas/tokens.js';
import type { TokenStore } from '../../trust/token-store.js';
import { ErrorReply, TokenListReply, TokenReply, TokenRevokedReply } from '../schemas/responses.js';

export function tokenRoutes(app: FastifyInstance, tokens: TokenStore, opts: { readOnly: boolean }): void {
  const writable = (): void => {
    if (opts.readOnly) throw readOnlyError('tokens cannot be created or revoked');
  };
  app.post('/v1/tokens', { schema: { body: CreateTokenBody, response: { 201: TokenReply, 400: ErrorReply } }, config: { roles: ['admin'] } }, async (req, reply) => {
    writable();
    const body = req.body as CreateTokenBody;
    return reply.status(201).send(tokens.create(body.role, body.label));
  });

  app.get('/v1/tokens', { schema: { response: { 200: TokenListReply } }, config: { roles: ['admin'] } }, async () => ({ tokens: tokens.list() }));

  app.delete('/v1/tokens/:id', { schema: { params: TokenIdParams, response: { 200: TokenRevokedReply, 404: ErrorReply } }, config: { roles: ['admin'] } }, async (req) => {
    writable();
    const { id } = req.params as TokenIdParams;
    if (!tokens.revoke(id)) throw new FedrxError('E_NOT_FOUND', `no token ${id}`);
    return { id, revoked: true };
  });
}
