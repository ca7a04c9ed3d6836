// The coordinator over HTTPS: `fedrx tls cert` makes a usable certificate, bad TLS settings are
// refused with coded errors, and the REST client trusts exactly what it is given.

import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCoordinator, type Coordinator } from '../../../coordinator/app.js';
import { CoordinatorClient } from '../../../cli/client/client.js';
import { checkServerTls, loadServerTls } from '../../../coordinator/http/tls.js';
import { makeSelfSignedCert, subjectAltNames } from '../../../cli/tls-cert.js';
import type { FederationTls } from '../../../cli/local-federation.js';
import { isFedrxError } from '../../../shared/errors.js';
import { tempDir } from '../../helpers/temp.js';
import { makeTestCert } from '../../helpers/tls-cert.js';

let dir: string;
let cert: FederationTls;
let other: FederationTls;

beforeAll(async () => {
  dir = tempDir('tls');
  [cert, other] = await Promise.all([makeTestCert(join(dir, 'a')), makeTestCert(join(dir, 'b'), ['coordinator.example.org', '10.1.2.3'])]);
});

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return isFedrxError(e) ? `${e.code}: ${e.message}` : `not coded: ${String(e)}`;
  }
  return 'no error';
}

describe('fedrx tls cert', () => {
  it('writes a certificate for the given hosts, a 0600 key and the fingerprint openssl agrees with', () => {
    const x = new X509Certificate(readFileSync(other.certFile));
    expect(x.subjectAltName).toBe('DNS:coordinator.example.org, IP Address:10.1.2.3');
    expect(x.fingerprint256).toBe(other.fingerprint);
    const byOpenssl = execFileSync('openssl', ['x509', '-in', other.certFile, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' });
    expect(byOpenssl.trim().split('=')[1]).toBe(other.fingerprint);
    expect(statSync(other.keyFile).mode & 0o777).toBe(0o600);
    expect(checkServerTls({ cert: readFileSync(other.certFile), key: readFileSync(other.keyFile) }).fingerprint).toBe(other.fingerprint);
    const validDays = (new Date(x.validTo).getTime() - Date.now()) / 86_400_000;
    expect(validDays).toBeGreaterThan(364);
    expect(validDays).toBeLessThan(366);
  });

  it('covers localhost and 127.0.0.1 by default', () => {
    expect(new X509Certificate(readFileSync(cert.certFile)).subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
  });

  it('names IP addresses as IP entries and refuses what is neither a name nor an address', () => {
    expect(subjectAltNames(['::1', 'a.example', '192.168.0.1', 'a.example'])).toEqual(['IP:::1', 'DNS:a.example', 'IP:192.168.0.1']);
    expect(codeOf(() => subjectAltNames(['bad,name']))).toMatch(/^E_TLS_CONFIG: .*"bad,name"/);
    expect(codeOf(() => subjectAltNames(['a/b']))).toMatch(/^E_TLS_CONFIG/);
  });

  it('never overwrites an existing key', () => {
    const before = readFileSync(cert.keyFile, 'utf8');
    expect(codeOf(() => makeSelfSignedCert({ outDir: join(dir, 'a') }))).toMatch(/^E_TLS_CONFIG: .*already exists/);
    expect(readFileSync(cert.keyFile, 'utf8')).toBe(before);
  });

  it('says so when openssl is missing, and leaves no half-made files', () => {
    const out = join(dir, 'no-openssl');
    expect(codeOf(() => makeSelfSignedCert({ outDir: out, openssl: join(dir, 'no-such-openssl') }))).toMatch(/^E_TLS_CONFIG: the openssl command was not found/);
    expect(readdirSync(out)).toEqual([]);
  });

  it('refuses a validity that is not a whole number of days', () => {
    expect(codeOf(() => makeSelfSignedCert({ outDir: join(dir, 'days'), days: 0 }))).toMatch(/^E_TLS_CONFIG: --days/);
    expect(codeOf(() => makeSelfSignedCert({ outDir: join(dir, 'days'), days: 1.5 }))).toMatch(/^E_TLS_CONFIG: --days/);
    expect(existsSync(join(dir, 'days'))).toBe(false);
  });
});

describe('coordinator TLS settings', () => {
  it('takes both files or neither', () => {
    expect(loadServerTls(undefined, undefined)).toBeUndefined();
    expect(codeOf(() => loadServerTls(cert.certFile, undefined))).toMatch(/^E_TLS_CONFIG: --tls-cert and --tls-key go together.*only --tls-cert/);
    expect(codeOf(() => loadServerTls(undefined, cert.keyFile))).toMatch(/^E_TLS_CONFIG: .*only --tls-key/);
  });

  it('names a file it cannot read', () => {
    const missing = join(dir, 'missing.pem');
    expect(codeOf(() => loadServerTls(missing, cert.keyFile))).toBe(`E_TLS_CONFIG: cannot read the TLS certificate file ${missing}: ENOENT`);
    expect(codeOf(() => loadServerTls(cert.certFile, missing))).toBe(`E_TLS_CONFIG: cannot read the TLS key file ${missing}: ENOENT`);
  });

  it('refuses a key of another certificate, and a certificate that is not one', () => {
    expect(codeOf(() => checkServerTls({ cert: readFileSync(cert.certFile), key: readFileSync(other.keyFile) }))).toBe('E_TLS_CONFIG: the TLS key does not belong to the TLS certificate');
    expect(codeOf(() => checkServerTls({ cert: readFileSync(cert.keyFile), key: readFileSync(cert.keyFile) }))).toMatch(/^E_TLS_CONFIG: the TLS certificate does not hold a PEM certificate/);
    expect(codeOf(() => checkServerTls({ cert: readFileSync(cert.certFile), key: 'not a key' }))).toMatch(/^E_TLS_CONFIG: the TLS key is not a readable/);
  });
});

describe('coordinator over HTTPS', () => {
  let c: Coordinator;
  let url: string;
  const lines: string[] = [];

  beforeAll(async () => {
    c = await buildCoordinator({ db: join(dir, 'c.sqlite'), log: (l) => lines.push(l), tls: { cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) } });
    url = await c.listen(0);
  });
  afterAll(async () => {
    await c.close();
  });

  it('listens on https and logs the certificate fingerprint for the sites', () => {
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(lines.find((l) => l.startsWith('TLS certificate SHA-256 fingerprint'))).toContain(cert.fingerprint);
  });

  it('answers a client that trusts its certificate', async () => {
    const health = await new CoordinatorClient(url, { ca: readFileSync(cert.certFile) }).health();
    expect(health).toMatchObject({ ok: true, ledger: { length: 0 } });
    // A coded API error still comes through the new transport.
    const token = c.tokens.create('auditor').token;
    await expect(new CoordinatorClient(url, { ca: readFileSync(cert.certFile, 'utf8'), token }).run('run-00000000')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });

  it('is refused, with a coded error saying what to do, by a client without the CA or with another one', async () => {
    for (const client of [new CoordinatorClient(url), new CoordinatorClient(url, { ca: readFileSync(other.certFile) })]) {
      const e: unknown = await client.health().then(() => 'answered', (x: unknown) => x);
      expect(isFedrxError(e, 'E_TLS_UNTRUSTED')).toBe(true);
      expect((e as Error).message).toMatch(new RegExp(`^cannot reach the coordinator at ${url}: its TLS certificate is not trusted \\(self-signed certificate\\).*--tls-ca`));
    }
  });

  it('is refused by a client whose host name the certificate does not cover', async () => {
    const byName = url.replace('127.0.0.1', 'localhost');
    await expect(new CoordinatorClient(byName, { ca: readFileSync(cert.certFile) }).health()).resolves.toMatchObject({ ok: true });
    const o = await buildCoordinator({ db: join(dir, 'o.sqlite'), log: () => {}, tls: { cert: readFileSync(other.certFile), key: readFileSync(other.keyFile) } });
    try {
      const otherUrl = await o.listen(0);
      await expect(new CoordinatorClient(otherUrl, { ca: readFileSync(other.certFile) }).health()).rejects.toMatchObject({ code: 'E_TLS_UNTRUSTED', message: /IP: 127\.0\.0\.1 is not in the cert's list/ });
    } finally {
      await o.close();
    }
  });

  it('does not serve plain HTTP on its port', async () => {
    const plain = url.replace('https:', 'http:');
    await expect(new CoordinatorClient(plain).health()).rejects.toMatchObject({ code: 'E_INTERNAL', message: /^cannot reach the coordinator at http:.*use an https:\/\/ URL/ });
  });
});

describe('REST client transport', () => {
  it('says the coordinator is unreachable when nothing listens', async () => {
    await expect(new CoordinatorClient('http://127.0.0.1:1').health()).rejects.toMatchObject({ code: 'E_INTERNAL', message: /^cannot reach the coordinator at http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/ });
  });

  it('refuses a URL that is not http(s)', async () => {
    await expect(new CoordinatorClient('ftp://127.0.0.1').health()).rejects.toMatchObject({ code: 'E_BAD_REQUEST' });
  });
});
