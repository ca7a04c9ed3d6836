// The coordinator's certificate and key: read, checked to belong together, and described in one
// line an admin can hand to the sites (the fingerprint is what their agents pin).

import { createPrivateKey, type KeyObject } from 'node:crypto';
import { FedrxError } from '../../shared/errors.js';
import { parseCertificate, readTlsFile, type Fingerprint } from '../../shared/tls.js';

export interface ServerTls {
  cert: Buffer | string;
  key: Buffer | string;
}

export interface ServerCertInfo {
  fingerprint: Fingerprint;
  subject: string;
  subjectAltName: string;
  validTo: Date;
}

/** Both files or neither: half a TLS configuration is refused, not silently served as plain HTTP. */
export function loadServerTls(certFile: string | undefined, keyFile: string | undefined): ServerTls | undefined {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    throw new FedrxError('E_TLS_CONFIG', `--tls-cert and --tls-key go together: give both files (got only ${certFile === undefined ? '--tls-key' : '--tls-cert'})`);
  }
  return { cert: readTlsFile(certFile, 'TLS certificate'), key: readTlsFile(keyFile, 'TLS key') };
}

/** Parses the leaf certificate and checks that the key is its private key. */
export function checkServerTls(tls: ServerTls): ServerCertInfo {
  const cert = parseCertificate(tls.cert, 'the TLS certificate');
  let key: KeyObject;
  try {
    key = createPrivateKey(tls.key);
  } catch (e) {
    throw new FedrxError('E_TLS_CONFIG', `the TLS key is not a readable unencrypted private key: ${(e as Error).message}`);
  }
  if (!cert.checkPrivateKey(key)) throw new FedrxError('E_TLS_CONFIG', 'the TLS key does not belong to the TLS certificate');
  return { fingerprint: cert.fingerprint256, subject: cert.subject.replace(/\n/g, ', '), subjectAltName: cert.subjectAltName ?? '', validTo: new Date(cert.validTo) };
}

export function describeServerCert(c: ServerCertInfo): string {
  const expired = c.validTo.getTime() < Date.now() ? ' (EXPIRED: agents will refuse it)' : '';
  return `TLS certificate SHA-256 fingerprint ${c.fingerprint} (${c.subjectAltName || c.subject}; valid until ${c.validTo.toISOString()}${expired}); give it to the sites for --tls-pin`;
}
