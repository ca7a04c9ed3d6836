// One HTTP(S) request with a JSON body, on node:http / node:https rather than fetch: fetch cannot
// be given a CA, and a coordinator with a self-signed or hospital-CA certificate needs one.

import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { FedrxError } from '../../shared/errors.js';
import { isCertificateError, withSystemRoots } from '../../shared/tls.js';

export interface HttpCall {
  method: string;
  headers?: Record<string, string>;
  /** Sent as JSON when present. */
  body?: unknown;
  /** Extra trust anchors (PEM) for an https URL, on top of Node's bundled roots. */
  ca?: Buffer | string | undefined;
}

export interface HttpAnswer {
  status: number;
  text: string;
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
  const body = call.body === undefined ? undefined : JSON.stringify(call.body);
  const headers: Record<string, string | number> = { accept: 'application/json', ...call.headers };
  if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  const options: RequestOptions = { method: call.method, headers };
  const secure = u.protocol === 'https:';
  if (secure && call.ca !== undefined) options.ca = withSystemRoots(call.ca);
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => reject(unreachable(u, e)));
    };
    const req = secure ? httpsRequest(u, options, onResponse) : httpRequest(u, options, onResponse);
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
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
