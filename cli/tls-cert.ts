// `fedrx tls cert`: a self-signed certificate and key for the coordinator, made by the openssl
// CLI (Node can sign nothing itself). The printed fingerprint is what the sites pin.

import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { FedrxError } from '../shared/errors.js';
import { certificateFingerprint, type Fingerprint } from '../shared/tls.js';

export const DEFAULT_CERT_HOSTS = ['localhost', '127.0.0.1'] as const;
export const DEFAULT_CERT_DAYS = 365;

export interface SelfSignedCert {
  certFile: string;
  keyFile: string;
  fingerprint: Fingerprint;
}

// Letters, digits, dots and hyphens (a leading "*." for a wildcard): also keeps commas and
// slashes, which mean something to openssl's -subj and -addext, out of the arguments.
const DNS_NAME = /^(?:\*\.)?[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

/** subjectAltName entries: IP addresses as IP:, names as DNS:. */
export function subjectAltNames(hosts: readonly string[]): string[] {
  if (hosts.length === 0) throw new FedrxError('E_TLS_CONFIG', 'a certificate needs at least one host name or IP address');
  return [...new Set(hosts)].map((h) => {
    if (isIP(h) !== 0) return `IP:${h}`;
    if (!DNS_NAME.test(h)) throw new FedrxError('E_TLS_CONFIG', `not a host name or IP address: ${JSON.stringify(h)}`);
    return `DNS:${h}`;
  });
}

export function makeSelfSignedCert(o: { outDir: string; hosts?: readonly string[]; days?: number; openssl?: string }): SelfSignedCert {
  const hosts = o.hosts === undefined || o.hosts.length === 0 ? DEFAULT_CERT_HOSTS : o.hosts;
  const san = subjectAltNames(hosts);
  const days = o.days ?? DEFAULT_CERT_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > 36_500) throw new FedrxError('E_TLS_CONFIG', `--days must be a whole number from 1 to 36500, got ${days}`);
  const certFile = join(o.outDir, 'cert.pem');
  const keyFile = join(o.outDir, 'key.pem');
  // Replacing a coordinator's key silently would break every site's pin: refuse instead.
  for (const f of [certFile, keyFile]) {
    if (existsSync(f)) throw new FedrxError('E_TLS_CONFIG', `${f} already exists; move it away or choose another --out`);
  }
  mkdirSync(o.outDir, { recursive: true });
  // The key file exists with mode 0600 before openssl writes a byte into it.
  closeSync(openSync(keyFile, 'wx', 0o600));
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', String(days)];
  args.push('-subj', `/O=fedrx/CN=${hosts[0]!.slice(0, 64)}`, '-addext', `subjectAltName=${san.join(',')}`, '-addext', 'extendedKeyUsage=serverAuth');
  const r = spawnSync(o.openssl ?? 'openssl', args, { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) {
    rmSync(keyFile, { force: true });
    rmSync(certFile, { force: true });
    if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      throw new FedrxError('E_TLS_CONFIG', `the openssl command was not found (${o.openssl ?? 'openssl'}); install it (Debian: apt-get install openssl) or use a certificate from your CA`);
    }
    const why = r.error?.message ?? r.stderr.trim().split('\n').slice(-3).join(' ');
    throw new FedrxError('E_TLS_CONFIG', `openssl could not make the certificate: ${why}`);
  }
  chmodSync(keyFile, 0o600);
  return { certFile, keyFile, fingerprint: certificateFingerprint(readFileSync(certFile), certFile) };
}
