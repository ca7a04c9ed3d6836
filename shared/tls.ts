// Certificate fingerprints and trust files, shared by the coordinator (which prints its
// fingerprint), the agents (which pin it) and the CLI (which trusts a CA file).

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { FedrxError } from './errors.js';

/** Node's own spelling of a SHA-256 fingerprint (`cert.fingerprint256`): upper-case hex pairs joined by colons. */
export type Fingerprint = string;

const HEX64 = /^[0-9a-f]{64}$/i;
const PAIRS32 = /^(?:[0-9a-f]{2}:){31}[0-9a-f]{2}$/i;
// `openssl x509 -fingerprint -sha256` prints "sha256 Fingerprint=AB:…"; admins paste that.
const PREFIX = /^sha-?256(?:\s+fingerprint)?\s*[=:]\s*/i;

/** 64 hex digits, with or without colons between pairs, any case → Node's form; anything else throws E_TLS_CONFIG. */
export function normalizeFingerprint(text: string): Fingerprint {
  const s = text.trim().replace(PREFIX, '');
  if (!HEX64.test(s) && !PAIRS32.test(s)) {
    throw new FedrxError('E_TLS_CONFIG', `a SHA-256 certificate fingerprint is 64 hex digits, optionally in colon-separated pairs; got ${JSON.stringify(text.slice(0, 120))}`);
  }
  const hex = s.replace(/:/g, '').toUpperCase();
  return hex.match(/../g)!.join(':');
}

/** SHA-256 fingerprint of the first certificate in a PEM (the leaf of a chain file). */
export function certificateFingerprint(pem: Buffer | string, source = 'certificate'): Fingerprint {
  return parseCertificate(pem, source).fingerprint256;
}

export function parseCertificate(pem: Buffer | string, source: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (e) {
    throw new FedrxError('E_TLS_CONFIG', `${source} does not hold a PEM certificate: ${(e as Error).message}`);
  }
}

/** Reads a certificate, key or CA file; a missing or unreadable file is named in the error. */
export function readTlsFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new FedrxError('E_TLS_CONFIG', `cannot read the ${what} file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** A CA file (one or more PEM certificates), checked to hold at least one certificate. */
export function readCaFile(path: string): Buffer {
  const pem = readTlsFile(path, 'CA certificate');
  parseCertificate(pem, `CA file ${path}`);
  return pem;
}

/** The `ca` option of a TLS client: Node's bundled roots plus the extra anchors (giving `ca` alone would replace the roots). */
export function withSystemRoots(extra: Buffer | string): (Buffer | string)[] {
  return [...rootCertificates, extra];
}

// OpenSSL's verification failures as Node reports them in `err.code`.
const CERT_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_(?:GET|VERIFY)|ALTNAME/;

/** True when a connection failed because the peer's certificate was not trusted (not because it was unreachable). */
export function isCertificateError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && CERT_ERROR.test(code);
}
