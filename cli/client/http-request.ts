// One HTTP(S) request with a JSON or binary body, on node:http / node:https rather than fetch: fetch cannot
// be given a CA, and a coordinator with a self-signed or hospital-CA certificate needs one.

import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { FedrxError } from '../../shared/errors.js';
import { isCertificateError, withSystemRoots } from '../../shared/tls.js';

export interface HttpCall {
  method: string;
  headers?: Record<string, string>;
  /** Sent as JSON when present; a Buffer is sent as it is (application/octet-stream). */
  body?: unknown;
  /** How long to wait for the answer; 0 waits as long as it takes (a relay step runs a whole round). Default 300 s. */
  timeoutMs?: number;
  /** Extra trust anchors (PEM) for an https URL, on top of Node's bundled roots. */
  ca?: Buffer | string | undefined;
}

export interface HttpAnswer {
  status: number;
  text: string;
  /** The same bytes, undecoded (a binary answer). */
  bytes: Buffer;
  contentType: string;
}

const TIMEOUT_MS = 300_000; // as fetch's: a coordinator that accepts but never answers

export function sendRequest(url: string, call: HttpCall): Promise<HttpAnswer> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new FedrxError('E_BAD_REQUEST', `not a URL: ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new FedrxError('E_BAD_REQUEST', `the coordinator URL must be http:// or https://, got ${u.protocol}`);
  const binary = Buffer.isBuffer(call.body);
  const body = call.body === undefined ? undefined : binary ? (call.body as Buffer) : JSON.stringify(call.body);
  const headers: Record<string, string | number> = { accept: binary ? 'application/octet-stream, application/json' : 'application/json', ...call.headers };
  if (body !== undefined) Object.assign(headers, { 'content-type': binary ? 'application/octet-stream' : 'application/json', 'content-length': Buffer.byteLength(body) });
  const options: RequestOptions = { method: call.method, headers };
  const secure = u.protocol === 'https:';
  if (secure && call.ca !== undefined) options.ca = withSystemRoots(call.ca);
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, text: bytes.toString('utf8'), bytes, contentType: res.headers['content-type'] ?? '' });
      });
      res.on('error', (e) => reject(unreachable(u, e)));
    };
    const req = secure ? httpsRequest(u, options, onResponse) : httpRequest(u, options, onResponse);
    const timeoutMs = call.timeoutMs ?? TIMEOUT_MS;
    if (timeoutMs > 0) req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', (e) => reject(unreachable(u, e)));
    req.end(body);
  });
}

/** A transport failure, said so that the user knows what to change. */
function unreachable(u: URL, e: Error): FedrxError {
  const at = `cannot reach the coordinator at ${u.origin}`;
  if (isCertificateError(e)) {
    return new FedrxError('E_TLS_UNTRUSTED', `${at}: its TLS certificate is not trusted (${e.message}); give its certificate or CA with --tls-ca FILE or FEDRX_TLS_CA`);
  }
  const code = (e as NodeJS.ErrnoException).code;
  let hint = '';
  if (u.protocol === 'http:' && code === 'ECONNRESET') hint = ' (if the coordinator serves HTTPS, use an https:// URL)';
  if (u.protocol === 'https:' && code === 'EPROTO') hint = ' (the coordinator may serve plain HTTP: use an http:// URL)';
  return new FedrxError('E_INTERNAL', `${at}: ${e.message}${hint}`);
}
