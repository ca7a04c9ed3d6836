// Learns which certificate a coordinator presents, without trusting it and without sending it
// anything but a TLS handshake. Used only to pin a self-signed certificate by its fingerprint
// alone: the real connection then trusts exactly that certificate and checks the pin again.

import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { connect } from 'node:tls';
import type { Fingerprint } from '../shared/tls.js';

export interface PresentedCert {
  fingerprint: Fingerprint;
  /** The leaf certificate, PEM. */
  pem: string;
}

export interface Probe {
  result: Promise<PresentedCert>;
  cancel(): void;
}

export function probeCertificate(wssUrl: string, timeoutMs = 10_000): Probe {
  const u = new URL(wssUrl);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const socket = connect({
    host,
    port: Number(u.port === '' ? 443 : u.port),
    // SNI carries names only (RFC 6066).
    ...(isIP(host) === 0 ? { servername: host } : {}),
    // Nothing is trusted here: the answer is only compared with the pin.
    rejectUnauthorized: false,
  });
  const result = new Promise<PresentedCert>((resolve, reject) => {
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no TLS handshake from ${u.host} within ${timeoutMs / 1000} s`)));
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`${u.host} closed the connection during the TLS handshake`)));
    socket.once('secureConnect', () => {
      const raw = socket.getPeerCertificate().raw as Buffer | undefined;
      socket.destroy();
      if (raw === undefined) return reject(new Error(`${u.host} presented no certificate`));
      const cert = new X509Certificate(raw);
      resolve({ fingerprint: cert.fingerprint256, pem: cert.toString() });
    });
  });
  return { result, cancel: () => socket.destroy() };
}
