// The agent's connection over wss, against a real https + WebSocket server on loopback with
// certificates made by `fedrx tls cert`: a pinned certificate is accepted, any other one is
// refused inside the TLS handshake (not one byte reaches the server) and retried with backoff.

import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { FederationTls } from '../../cli/local-federation.js';
import { isFedrxError } from '../../shared/errors.js';
import { AGENT_PATH, PROTOCOL_VERSION, type Hello } from '../../shared/wire.js';
import { Connection, type ConnectionTls } from '../../site-agent/connection.js';
import { agentTls } from '../../site-agent/tls-options.js';
import { tempDir } from '../helpers/temp.js';
import { makeTestCert } from '../helpers/tls-cert.js';

/** An https server with the agents' WebSocket endpoint; counts what reaches it. */
interface TestServer {
  url: string;
  tcpConnections: number;
  httpRequests: number;
  hellos: string[];
  close(): Promise<void>;
}

async function startWssServer(cert: FederationTls): Promise<TestServer> {
  const server: HttpsServer = createHttpsServer({ cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) });
  const wss = new WebSocketServer({ server, path: AGENT_PATH });
  const s = { url: '', tcpConnections: 0, httpRequests: 0, hellos: [] as string[] };
  server.on('connection', () => s.tcpConnections++);
  server.on('request', () => s.httpRequests++);
  server.on('upgrade', () => s.httpRequests++);
  wss.on('connection', (ws) => {
    ws.on('message', (data: Buffer) => s.hellos.push(data.toString('utf8')));
    // As the coordinator does: a challenge first, which the agent answers with its hello.
    ws.send(JSON.stringify({ type: 'challenge', v: PROTOCOL_VERSION, nonce: 'a'.repeat(64), coordinatorKey: 'b'.repeat(64), expiresInSec: 30 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  s.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(s, {
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

/** A bare TLS server: counts every byte a client sends after the handshake. */
async function startByteCounter(cert: FederationTls): Promise<{ url: string; tcpConnections: number; bytes: number; close(): Promise<void> }> {
  const server: TlsServer = createTlsServer({ cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) }, (socket) => {
    socket.on('data', (d: Buffer) => (s.bytes += d.length));
    socket.on('error', () => {});
  });
  server.on('connection', () => s.tcpConnections++);
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const s = {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tcpConnections: 0,
    bytes: 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return s;
}

/** A hospital CA and a leaf it issued for localhost / 127.0.0.1, made with openssl as a hospital would. */
function makeCaIssuedCert(out: string): FederationTls & { caFile: string } {
  const ossl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore' });
  const f = (name: string): string => join(out, name);
  mkdirSync(out, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ossl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=Test Hospital CA');
  ossl('req', ...ec, '-keyout', f('leaf.key'), '-out', f('leaf.csr'), '-subj', '/CN=localhost');
  writeFileSync(f('ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  ossl('x509', '-req', '-in', f('leaf.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('leaf.pem'), '-days', '1', '-extfile', f('ext'));
  return { caFile: f('ca.pem'), certFile: f('leaf.pem'), keyFile: f('leaf.key'), fingerprint: new X509Certificate(readFileSync(f('leaf.pem'))).fingerprint256 };
}

const hello: Hello = { type: 'hello', v: PROTOCOL_VERSION, siteId: 'site-a', nonce: 'a'.repeat(64), signature: 'c'.repeat(128), replica: { length: 0, headHash: '0'.repeat(64) }, backend: 'cpu' };

let dir: string;
let cert: FederationTls; // the server's
let other: FederationTls; // someone else's
let elsewhere: FederationTls; // the server's key material, but for another host name
const open: Connection[] = [];

function connect(url: string, tls: ConnectionTls | undefined): { conn: Connection; log: string[] } {
  const log: string[] = [];
  const conn = new Connection({
    coordinatorUrl: url,
    log: (l) => log.push(l),
    minDelayMs: 50,
    maxDelayMs: 200,
    ...(tls === undefined ? {} : { tls }),
  });
  conn.start({ hello: () => hello, onMessage: () => {}, onBinary: () => {} });
  open.push(conn);
  return { conn, log };
}

async function until(cond: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  dir = tempDir('agent-tls');
  [cert, other, elsewhere] = await Promise.all([
    makeTestCert(join(dir, 'server')),
    makeTestCert(join(dir, 'other')),
    makeTestCert(join(dir, 'elsewhere'), ['coordinator.example.org']),
  ]);
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

describe('agent connection over TLS', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startWssServer(cert);
  });
  afterAll(async () => {
    await server.close();
  });

  it('connects with the CA and the right pin, and says hello', async () => {
    const before = server.hellos.length;
    const { conn, log } = connect(server.url, { ca: readFileSync(cert.certFile), pinSha256: cert.fingerprint });
    await until(() => server.hellos.length > before, 'the hello');
    expect(conn.connected).toBe(true);
    expect(JSON.parse(server.hellos.at(-1)!)).toMatchObject({ type: 'hello', siteId: 'site-a' });
    expect(log).toContain(`connected to ${server.url.replace('https:', 'wss:')}/v1/agents; waiting for the coordinator's challenge`);
  });

  it('takes the pin in any accepted spelling', async () => {
    const before = server.hellos.length;
    const { conn } = connect(server.url, { ca: readFileSync(cert.certFile), pinSha256: cert.fingerprint.replace(/:/g, '').toLowerCase() });
    await until(() => server.hellos.length > before, 'the hello');
    expect(conn.connected).toBe(true);
  });

  it('refuses a certificate with another fingerprint, sends nothing, logs both fingerprints and keeps retrying', async () => {
    const tcpBefore = server.tcpConnections;
    const requestsBefore = server.httpRequests;
    const { conn, log } = connect(server.url, { ca: readFileSync(cert.certFile), pinSha256: other.fingerprint });
    await until(() => log.filter((l) => l.includes('TLS PIN MISMATCH')).length >= 3, 'three refused attempts');
    expect(conn.connected).toBe(false);
    expect(server.tcpConnections - tcpBefore).toBeGreaterThanOrEqual(3);
    expect(server.httpRequests - requestsBefore).toBe(0);
    const line = log.find((l) => l.includes('TLS PIN MISMATCH'))!;
    expect(line).toMatch(/^!!! TLS PIN MISMATCH/);
    expect(line).toContain(`presented certificate SHA-256 ${cert.fingerprint}, expected ${other.fingerprint}`);
    expect(line).toMatch(/ \(E_TLS_PIN\)$/);
    expect(log.some((l) => l.startsWith('connected'))).toBe(false);
  });

  it('refuses a self-signed certificate it was not given (no --tls-ca, no pin)', async () => {
    const requestsBefore = server.httpRequests;
    const { conn, log } = connect(server.url, undefined);
    await until(() => log.filter((l) => l.startsWith('disconnected')).length >= 2, 'two refused attempts');
    expect(conn.connected).toBe(false);
    expect(server.httpRequests - requestsBefore).toBe(0);
    expect(log[0]).toMatch(/^connection error: self-signed certificate \(the coordinator's certificate is not trusted: give .*--tls-ca/);
  });

  it('refuses a certificate from another CA than the one given', async () => {
    const requestsBefore = server.httpRequests;
    const { conn, log } = connect(server.url, { ca: readFileSync(other.certFile) });
    await until(() => log.some((l) => l.startsWith('disconnected')), 'a refused attempt');
    expect(conn.connected).toBe(false);
    expect(server.httpRequests - requestsBefore).toBe(0);
    expect(log[0]).toMatch(/^connection error: self-signed certificate/);
  });

  it('checks the host name before the pin', async () => {
    const named = await startWssServer(elsewhere);
    try {
      const { conn, log } = connect(named.url, { ca: readFileSync(elsewhere.certFile), pinSha256: elsewhere.fingerprint });
      await until(() => log.some((l) => l.startsWith('disconnected')), 'a refused attempt');
      expect(conn.connected).toBe(false);
      expect(named.httpRequests).toBe(0);
      expect(log[1]).toMatch(/^connection error: .*IP: 127\.0\.0\.1 is not in the cert's list/);
    } finally {
      await named.close();
    }
  });

  it('trusts a certificate issued by the hospital CA given with --tls-ca, pinned or not', async () => {
    const issued = makeCaIssuedCert(join(dir, 'hospital'));
    const hospital = await startWssServer(issued);
    try {
      for (const tls of [{ ca: readFileSync(issued.caFile) }, { ca: readFileSync(issued.caFile), pinSha256: issued.fingerprint }]) {
        const before = hospital.hellos.length;
        const { conn } = connect(hospital.url, tls);
        await until(() => hospital.hellos.length > before, 'the hello');
        expect(conn.connected).toBe(true);
      }
      // The pin alone cannot vouch for a CA-issued certificate: the agent says what is missing.
      const { conn, log } = connect(hospital.url, { pinSha256: issued.fingerprint });
      await until(() => log.some((l) => l.startsWith('disconnected')), 'a refused attempt');
      expect(conn.connected).toBe(false);
      expect(log[1]).toMatch(/^connection error: unable to verify the first certificate \(a pin alone trusts only a self-signed certificate: give the CA that issued this one with --tls-ca\)/);
    } finally {
      await hospital.close();
    }
  });

  describe('pin without a CA (a self-signed certificate trusted by its fingerprint alone)', () => {
    it('connects when the fingerprint matches', async () => {
      const before = server.hellos.length;
      const { conn, log } = connect(server.url, { pinSha256: cert.fingerprint });
      await until(() => server.hellos.length > before, 'the hello');
      expect(conn.connected).toBe(true);
      expect(log[0]).toBe(`coordinator certificate pinned: SHA-256 ${cert.fingerprint} (trusted by its fingerprint alone)`);
    });

    it('refuses any other certificate, sends nothing and keeps retrying', async () => {
      const tcpBefore = server.tcpConnections;
      const requestsBefore = server.httpRequests;
      const { conn, log } = connect(server.url, { pinSha256: other.fingerprint });
      await until(() => log.filter((l) => l.includes('TLS PIN MISMATCH')).length >= 3, 'three refused attempts');
      expect(conn.connected).toBe(false);
      expect(server.tcpConnections - tcpBefore).toBeGreaterThanOrEqual(3);
      expect(server.httpRequests - requestsBefore).toBe(0);
      expect(log.find((l) => l.includes('TLS PIN MISMATCH'))).toContain(`presented certificate SHA-256 ${cert.fingerprint}, expected ${other.fingerprint}`);
    });
  });
});

describe('not one byte on a refused connection', () => {
  // A bare TLS server sees every byte the agent writes after the handshake: the upgrade request
  // when the pin matches (so the counter works), nothing at all when it does not.
  it.each([
    ['with a CA', true],
    ['with the pin alone', false],
  ])('%s', async (_label, withCa) => {
    const tls = (pin: string): ConnectionTls => ({ ...(withCa ? { ca: readFileSync(cert.certFile) } : {}), pinSha256: pin });
    const right = await startByteCounter(cert);
    const wrong = await startByteCounter(cert);
    try {
      connect(right.url, tls(cert.fingerprint));
      const { log } = connect(wrong.url, tls(other.fingerprint));
      await until(() => right.bytes > 0, 'the upgrade request on the right pin');
      await until(() => log.filter((l) => l.includes('TLS PIN MISMATCH')).length >= 3 && wrong.tcpConnections >= 3, 'three refused attempts');
      expect(wrong.bytes).toBe(0);
    } finally {
      await Promise.all(open.splice(0).map((c) => c.close()));
      await Promise.all([right.close(), wrong.close()]);
    }
  });
});

describe('agent TLS options', () => {
  const codeOf = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      return isFedrxError(e) ? `${e.code}: ${e.message}` : `not coded: ${String(e)}`;
    }
    return 'no error';
  };

  it('reads the CA and normalises the pin', () => {
    const tls = agentTls('https://coordinator.example.org:7600', { caFile: cert.certFile, pin: cert.fingerprint.replace(/:/g, '') });
    expect(tls?.pinSha256).toBe(cert.fingerprint);
    expect(tls?.ca?.toString('utf8')).toBe(readFileSync(cert.certFile, 'utf8'));
    expect(agentTls('http://127.0.0.1:7600', {})).toBeUndefined();
  });

  it('refuses a pin or a CA with a plain http URL', () => {
    expect(codeOf(() => agentTls('http://127.0.0.1:7600', { pin: cert.fingerprint }))).toMatch(/^E_TLS_CONFIG: --tls-ca and --tls-pin need an https:\/\/ coordinator URL/);
    expect(codeOf(() => agentTls('http://127.0.0.1:7600', { caFile: cert.certFile }))).toMatch(/^E_TLS_CONFIG/);
    expect(codeOf(() => connect('http://127.0.0.1:7600', { pinSha256: cert.fingerprint }))).toMatch(/^E_TLS_CONFIG/);
  });

  it('refuses a malformed pin and names a CA file it cannot use', () => {
    expect(codeOf(() => agentTls('https://127.0.0.1:7600', { pin: cert.fingerprint.slice(3) }))).toMatch(/^E_TLS_CONFIG: a SHA-256 certificate fingerprint is 64 hex digits/);
    const missing = join(dir, 'missing.pem');
    expect(codeOf(() => agentTls('https://127.0.0.1:7600', { caFile: missing }))).toBe(`E_TLS_CONFIG: cannot read the CA certificate file ${missing}: ENOENT`);
    expect(codeOf(() => agentTls('https://127.0.0.1:7600', { caFile: cert.keyFile }))).toMatch(new RegExp(`^E_TLS_CONFIG: CA file ${cert.keyFile} does not hold a PEM certificate`));
  });
});
