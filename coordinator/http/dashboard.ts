// Serves the web dashboard from the package itself, with no CDN: our own plain ES modules from
// dashboard/ and the few browser libraries they import, read from node_modules paths resolved at
// start-up (Preact, its hooks, htm, uPlot). The page is public; what it shows comes from the API,
// which checks the session's role on every call. A strict Content-Security-Policy allows scripts
// from this origin only (and the page's one inline import map, by its hash), so text that reaches
// the page from the API can never run as script.

import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FedrxError } from '../../shared/errors.js';

export const DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/', import.meta.url));

/** Each vendored file the page may load, by the name it is served under (/vendor/NAME). */
function vendorFiles(): Map<string, string> {
  const require = createRequire(import.meta.url);
  const beside = (entry: string, file: string): string => join(dirname(require.resolve(entry)), file);
  return new Map([
    ['preact.js', beside('preact', 'preact.module.js')],
    ['preact-hooks.js', beside('preact/hooks', 'hooks.module.js')],
    ['htm.js', beside('htm', 'htm.module.js')],
    ['uplot.js', beside('uplot', 'uPlot.esm.js')],
    ['uplot.css', beside('uplot', 'uPlot.min.css')],
  ]);
}

const IMPORT_MAP = /<script type="importmap">([\s\S]*?)<\/script>/;
// One file name, no folders: the only shape /dashboard/:file serves.
const DASHBOARD_FILE = '^[a-z][a-z0-9-]{0,40}\\.(js|css|html)$';

/** The headers of every dashboard response: nothing framed, sniffed, or fetched from elsewhere. */
export function securityHeaders(reply: FastifyReply, scriptHashes: string[] = []): void {
  const scripts = ["'self'", ...scriptHashes.map((h) => `'sha256-${h}'`)].join(' ');
  reply.headers({
    'content-security-policy': `default-src 'none'; script-src ${scripts}; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  });
}

/** A page of dashboard/ (index.html or docs.html) with the hash of its import map for the CSP. */
function page(file: string): { html: string; hashes: string[] } {
  const html = readFileSync(join(DASHBOARD_DIR, file), 'utf8');
  const map = IMPORT_MAP.exec(html)?.[1];
  return { html, hashes: map === undefined ? [] : [createHash('sha256').update(map).digest('base64')] };
}

export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  const vendor = vendorFiles();
  const index = page('index.html');
  const docs = page('docs.html');
  // serve: false, so that every route is ours and declares its access (auth.ts).
  await app.register(fastifyStatic, { root: DASHBOARD_DIR, serve: false });
  const publicRoute = { config: { roles: 'public' as const }, schema: { hide: true } };

  const sendPage = (p: { html: string; hashes: string[] }) => async (_req: unknown, reply: FastifyReply) => {
    securityHeaders(reply, p.hashes);
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(p.html);
  };
  app.get('/', publicRoute, sendPage(index));
  app.get('/docs', publicRoute, sendPage(docs));

  app.get('/dashboard/:file', { ...publicRoute, schema: { hide: true, params: { type: 'object', properties: { file: { type: 'string', pattern: DASHBOARD_FILE } }, required: ['file'] } } }, async (req, reply) => {
    securityHeaders(reply);
    return reply.sendFile((req.params as { file: string }).file, DASHBOARD_DIR);
  });

  app.get('/vendor/:file', publicRoute, async (req, reply) => {
    const path = vendor.get((req.params as { file: string }).file);
    if (path === undefined) throw new FedrxError('E_NOT_FOUND', 'no such dashboard library');
    securityHeaders(reply);
    return reply.sendFile(basename(path), dirname(path));
  });
}
