// The agent's one WebSocket to the coordinator. It dials out (hospitals rarely accept inbound
// connections), answers the coordinator's challenge with a signed hello on every (re)connect, and keeps redialling with capped, jittered
// exponential backoff so a fleet of sites does not stampede a restarted coordinator.
// Whatever the server sends is untrusted: bad input is logged and dropped, never thrown.
// Over wss the coordinator's certificate may be pinned: a connection to any other certificate is
// dropped inside the TLS handshake, before the upgrade request, so nothing at all is sent on it.

import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import WebSocket from 'ws';
import { FedrxError, isFedrxError } from '../shared/errors.js';
import { isCertificateError, normalizeFingerprint, withSystemRoots, type Fingerprint } from '../shared/tls.js';
import { AGENT_PATH, messageText, parseCoordinatorMessage, type Challenge, type CoordinatorMessage, type Hello } from '../shared/wire.js';
import { probeCertificate, type Probe } from './tls-probe.js';

export interface ConnectionTls {
  /** Extra trust anchors (PEM), on top of Node's bundled roots: a hospital CA or the coordinator's self-signed certificate. */
  ca?: Buffer;
  /**
   * SHA-256 of the coordinator's leaf certificate (any spelling `normalizeFingerprint` takes).
   * Without `ca`, a self-signed certificate is trusted when, and only when, it has this fingerprint.
   */
  pinSha256?: string;
}

/** What the agent does with what arrives; given to `start`, once its collaborators exist. */
export interface ConnectionHandlers {
  /**
   * Answers the challenge that opens every connection: a signed hello, or null to stay silent
   * (e.g. the coordinator's key is not the pinned one; the callback then closes the connection).
   */
  hello: (challenge: Challenge) => Hello | null | Promise<Hello | null>;
  onMessage: (msg: CoordinatorMessage) => void | Promise<void>;
  onBinary: (frame: Buffer) => void | Promise<void>;
}

export interface ConnectionOptions {
  coordinatorUrl: string;
  log: (line: string) => void;
  /** First retry delay and cap (ms). */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** The jitter's random source, uniform in [0, 1). */
  random?: () => number;
  /** Waits `delayMs`, then runs `dial`; returns a cancel. The default is setTimeout. */
  schedule?: (dial: () => void, delayMs: number) => () => void;
  /** Only with an https/wss URL. */
  tls?: ConnectionTls;
  /** Reads a text frame; the default parses and checks it alone (the simulator shares one parse among its sites). */
  parse?: (text: string) => CoordinatorMessage;
}

const MIN_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;

/** http(s)://host[/prefix] → ws(s)://host[/prefix]/v1/agents. */
export function agentUrl(coordinatorUrl: string): string {
  const u = new URL(coordinatorUrl);
  const scheme: Record<string, string> = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' };
  const mapped = scheme[u.protocol];
  if (mapped === undefined) throw new Error(`coordinator URL must be http(s) or ws(s), got ${u.protocol}`);
  u.protocol = mapped;
  u.pathname = u.pathname.replace(/\/+$/, '') + AGENT_PATH;
  u.search = '';
  u.hash = '';
  return u.toString();
}

/**
 * Delay before retry number `attempt` (0-based): a ceiling doubling from min to max, and a delay
 * drawn uniformly from its upper half ("equal jitter"), so sites that lost the coordinator
 * together do not all come back in the same instant, yet none retries sooner than half the ceiling.
 */
export function backoffDelay(attempt: number, minMs = MIN_RETRY_MS, maxMs = MAX_RETRY_MS, rand: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + rand() * (ceiling / 2);
}

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export class Connection {
  private ws: WebSocket | undefined;
  private on: ConnectionHandlers | undefined;
  private cancelRetry: (() => void) | undefined;
  private probe: Probe | undefined;
  private attempt = 0;
  private stopped = false;
  private readonly url: string;
  private readonly pin: Fingerprint | undefined;

  constructor(private readonly opts: ConnectionOptions) {
    this.url = agentUrl(opts.coordinatorUrl);
    const tls = opts.tls ?? {};
    if ((tls.ca !== undefined || tls.pinSha256 !== undefined) && !this.url.startsWith('wss:')) {
      throw new FedrxError('E_TLS_CONFIG', `a CA or certificate pin needs an https:// coordinator URL, got ${opts.coordinatorUrl}`);
    }
    this.pin = tls.pinSha256 === undefined ? undefined : normalizeFingerprint(tls.pinSha256);
    if (this.pin !== undefined) opts.log(`coordinator certificate pinned: SHA-256 ${this.pin}${tls.ca === undefined ? ' (trusted by its fingerprint alone)' : ''}`);
  }

  /** Dials, and keeps redialling until `close`. */
  start(handlers: ConnectionHandlers): void {
    if (this.on !== undefined) throw new FedrxError('E_INTERNAL', 'the connection is already started');
    this.on = handlers;
    this.dial();
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Sends if connected; returns false (and logs, unless closed) when the message had to be dropped. */
  send(data: string | Buffer): boolean {
    if (this.stopped) return false;
    const ws = this.ws;
    if (ws === undefined || ws.readyState !== WebSocket.OPEN) {
      this.opts.log('not connected: a message to the coordinator was dropped');
      return false;
    }
    ws.send(data, (err) => {
      if (err) this.opts.log(`send failed: ${err.message}`);
    });
    return true;
  }

  /** Cuts the socket as a lost link would (a simulated dropout): the connection redials with backoff. */
  drop(): void {
    this.ws?.terminate();
  }

  /** Stops reconnecting and closes the socket; resolves once it is closed. */
  close(): Promise<void> {
    this.stopped = true;
    this.cancelRetry?.();
    this.cancelRetry = undefined;
    this.probe?.cancel();
    const ws = this.ws;
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      ws.once('close', () => resolve());
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'agent stopping');
    });
  }

  private dial(): void {
    if (this.stopped) return;
    const ca = this.opts.tls?.ca;
    if (this.pin !== undefined && ca === undefined) this.dialPinnedOnly(this.pin);
    else this.open(ca === undefined ? undefined : withSystemRoots(ca));
  }

  /**
   * A pin without a CA: Node checks a pin only after the chain verified, which a self-signed
   * certificate never does. So look at the certificate first (a bare handshake), and if it is
   * the pinned one, connect trusting it; the real connection checks the pin again.
   */
  private dialPinnedOnly(pin: Fingerprint): void {
    const probe = probeCertificate(this.url);
    this.probe = probe;
    probe.result.then(
      (cert) => {
        if (this.probe !== probe || this.stopped) return;
        this.probe = undefined;
        if (cert.fingerprint === pin) this.open(withSystemRoots(cert.pem));
        else this.retry((delay) => this.opts.log(`${pinMismatch(this.url, pin, cert.fingerprint)} Retrying in ${(delay / 1000).toFixed(1)} s.`));
      },
      (err: Error) => {
        if (this.probe !== probe || this.stopped) return;
        this.probe = undefined;
        this.retry((delay) => this.opts.log(`connection error: ${err.message}; retrying in ${(delay / 1000).toFixed(1)} s`));
      },
    );
  }

  private open(ca: (Buffer | string)[] | undefined): void {
    const ws = new WebSocket(this.url, { handshakeTimeout: 10_000, ...tlsOptions(this.url, ca, this.pin) });
    this.ws = ws;
    ws.on('open', () => this.opts.log(`connected to ${this.url}; waiting for the coordinator's challenge`));
    ws.on('message', (data, isBinary) => this.receive(data, isBinary));
    ws.on('error', (err) => {
      if (isFedrxError(err, 'E_TLS_PIN')) this.opts.log(`${err.message} (${err.code})`);
      else if (isCertificateError(err)) this.opts.log(`connection error: ${err.message} (${this.untrustedHint()})`);
      else this.opts.log(`connection error: ${err.message}`);
    });
    ws.on('close', (code) => {
      if (this.ws === ws) this.ws = undefined;
      if (this.stopped) return;
      this.retry((delay) => this.opts.log(`disconnected (code ${code}); retrying in ${(delay / 1000).toFixed(1)} s`));
    });
  }

  private untrustedHint(): string {
    if (this.pin !== undefined && this.opts.tls?.ca === undefined) {
      return 'a pin alone trusts only a self-signed certificate: give the CA that issued this one with --tls-ca';
    }
    return "the coordinator's certificate is not trusted: give its certificate or CA with --tls-ca, or pin it with --tls-pin";
  }

  /** Schedules the next dial with backoff; `say` logs why, given the delay. */
  private retry(say: (delayMs: number) => void): void {
    const delay = backoffDelay(this.attempt++, this.opts.minDelayMs, this.opts.maxDelayMs, this.opts.random);
    say(delay);
    const schedule = this.opts.schedule ?? afterTimeout;
    this.cancelRetry = schedule(() => {
      this.cancelRetry = undefined;
      this.dial();
    }, delay);
  }

  private receive(data: WebSocket.RawData, isBinary: boolean): void {
    const on = this.on;
    if (on === undefined) return; // not started: nothing is dialled either
    if (isBinary) {
      this.guard(() => on.onBinary(toBuffer(data)));
      return;
    }
    let msg: CoordinatorMessage;
    try {
      msg = (this.opts.parse ?? parseCoordinatorMessage)(toBuffer(data).toString('utf8'));
    } catch (e) {
      // Only the code and reason: the frame itself may be large or hostile.
      this.opts.log(`ignored a message from the coordinator: ${isFedrxError(e) ? `${e.code} ${e.message}` : String(e)}`);
      return;
    }
    if (msg.type === 'challenge') {
      const ws = this.ws;
      this.guard(async () => {
        const hello = await on.hello(msg);
        if (hello !== null && ws?.readyState === WebSocket.OPEN) ws.send(messageText(hello));
      });
      return;
    }
    // A welcome means the server accepted us: the next outage starts again from the short delay.
    if (msg.type === 'welcome') this.attempt = 0;
    this.guard(() => on.onMessage(msg));
  }

  /** Runs a handler so that neither a throw nor a rejection escapes into the socket's events. */
  private guard(fn: () => void | Promise<void>): void {
    try {
      const r = fn();
      if (r instanceof Promise) r.catch((e: unknown) => this.opts.log(`handler failed: ${(e as Error).message}`));
    } catch (e) {
      this.opts.log(`handler failed: ${(e as Error).message}`);
    }
  }
}

function afterTimeout(dial: () => void, delayMs: number): () => void {
  const timer = setTimeout(dial, delayMs);
  return () => clearTimeout(timer);
}

function pinMismatch(url: string, expected: Fingerprint, actual: Fingerprint): string {
  return `!!! TLS PIN MISMATCH: the coordinator at ${url} presented certificate SHA-256 ${actual}, expected ${expected} (--tls-pin). Nothing was sent on this connection.`;
}

/**
 * The TLS part of the ws client options. `checkServerIdentity` runs inside the handshake, after
 * the chain verified and before ws writes its upgrade request; an Error aborts the connection.
 */
function tlsOptions(url: string, ca: (Buffer | string)[] | undefined, pin: Fingerprint | undefined): WebSocket.ClientOptions {
  const check = (host: string, cert: PeerCertificate): Error | undefined => {
    const err = checkServerIdentity(host, cert);
    if (err !== undefined) return err;
    if (pin !== undefined && cert.fingerprint256 !== pin) return new FedrxError('E_TLS_PIN', pinMismatch(url, pin, cert.fingerprint256));
    return undefined;
  };
  // @types/ws declares checkServerIdentity as returning a boolean; ws hands it to tls.connect,
  // which calls it with a PeerCertificate and expects an Error or undefined, as written here.
  const checkServerIdentityOption = { checkServerIdentity: check } as unknown as Pick<WebSocket.ClientOptions, 'checkServerIdentity'>;
  return { ...(ca === undefined ? {} : { ca }), ...(pin === undefined ? {} : checkServerIdentityOption) };
}
