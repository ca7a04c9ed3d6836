// A WebSocket client written on a bare TCP socket, for hostile tests and benchmarks: it can send
// a frame header that declares more bytes than it will ever send, stream payload at its own pace,
// and connect from another loopback address (Linux routes all of 127.0.0.0/8 to lo).

import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { GENESIS_PREV_HASH } from '../../shared/ledger.js';
import { helloBody, sign, type KeyPair } from '../../shared/signing.js';
import { AGENT_PATH, PROTOCOL_VERSION } from '../../shared/wire.js';

export const OPCODE_TEXT = 1;
export const OPCODE_BINARY = 2;

export class RawWs {
  /** Text frames the server sent, parsed as JSON. */
  readonly received: Record<string, unknown>[] = [];
  /** The server's close frame code, if one arrived. */
  closeCode: number | null = null;
  /** Resolves when the TCP connection is gone, however it went. */
  readonly ended: Promise<void>;
  private buf = Buffer.alloc(0);
  private gone = false;

  private constructor(readonly socket: net.Socket) {
    this.ended = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('close', () => (this.gone = true));
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.parseFrames();
    });
  }

  get isOpen(): boolean {
    return !this.gone;
  }

  /** TCP connect and HTTP upgrade to the agents' endpoint; resolves after the 101 (or rejects with the status line). */
  static async open(baseUrl: string, opts: { localAddress?: string; path?: string } = {}): Promise<RawWs> {
    const url = new URL(baseUrl);
    const socket = net.connect({ host: url.hostname, port: Number(url.port), ...(opts.localAddress === undefined ? {} : { localAddress: opts.localAddress }) });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const key = randomBytes(16).toString('base64');
    socket.write(
      `GET ${opts.path ?? AGENT_PATH} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const rest = await new Promise<Buffer>((resolve, reject) => {
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        const status = head.subarray(0, head.indexOf('\r\n')).toString();
        if (!status.includes(' 101 ')) {
          socket.destroy();
          reject(new Error(`${status}: ${head.subarray(end + 4).toString()}`));
          return;
        }
        resolve(head.subarray(end + 4));
      };
      socket.on('data', onData);
      socket.once('close', () => reject(new Error('closed during the upgrade')));
    });
    const ws = new RawWs(socket);
    if (rest.length > 0) socket.emit('data', rest);
    return ws;
  }

  /** Waits for a JSON message matching `pred`, or rejects after `timeoutMs`. */
  async next(pred: (m: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.received.find(pred);
      if (m !== undefined) return m;
      if (Date.now() > deadline || this.gone) throw new Error(`no such message; received ${JSON.stringify(this.received.slice(-3))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Answers the challenge as `siteId` with a hello signed by `keys`; resolves with the welcome
   * or the error the coordinator answered.
   */
  async hello(siteId: string, keys: KeyPair): Promise<Record<string, unknown>> {
    const challenge = await this.next((m) => m.type === 'challenge');
    const nonce = challenge.nonce as string;
    const signature = sign('hello', helloBody(siteId, nonce, challenge.coordinatorKey as string), keys.secretKey);
    this.sendText(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, siteId, nonce, signature, replica: { length: 0, headHash: GENESIS_PREV_HASH } }));
    return this.next((m) => m.type === 'welcome' || m.type === 'error');
  }

  /** A whole masked frame. */
  sendFrame(opcode: number, payload: Buffer): void {
    this.sendHeader(opcode, payload.length);
    this.socket.write(payload); // mask key of zeros: the payload goes as is
  }

  sendText(text: string): void {
    this.sendFrame(OPCODE_TEXT, Buffer.from(text, 'utf8'));
  }

  /** Only the header of a final frame declaring `length` payload bytes, masked with a key of zeros. */
  sendHeader(opcode: number, length: number): void {
    let head: Buffer;
    if (length < 126) head = Buffer.from([0x80 | opcode, 0x80 | length]);
    else if (length < 65536) {
      head = Buffer.alloc(4);
      head.writeUInt16BE(length, 2);
      head[1] = 0x80 | 126;
    } else {
      head = Buffer.alloc(10);
      head.writeBigUInt64BE(BigInt(length), 2);
      head[1] = 0x80 | 127;
    }
    head[0] = 0x80 | opcode;
    this.socket.write(Buffer.concat([head, Buffer.alloc(4)]));
  }

  /**
   * Writes up to `total` payload bytes in chunks, waiting for the socket to drain, until the
   * server closes the connection; returns how many bytes the socket accepted.
   */
  async stream(total: number, chunkBytes = 1024 * 1024): Promise<number> {
    const chunk = Buffer.alloc(chunkBytes);
    let sent = 0;
    while (sent < total && !this.gone) {
      const n = Math.min(chunkBytes, total - sent);
      const ok = this.socket.write(n === chunkBytes ? chunk : chunk.subarray(0, n));
      sent += n;
      if (!ok) await Promise.race([new Promise((r) => this.socket.once('drain', r)), this.ended]);
    }
    return sent;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private parseFrames(): void {
    for (;;) {
      if (this.buf.length < 2) return;
      const opcode = this.buf[0]! & 0x0f;
      let len = this.buf[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      if (this.buf.length < off + len) return;
      const payload = this.buf.subarray(off, off + len);
      this.buf = this.buf.subarray(off + len);
      if (opcode === OPCODE_TEXT) this.received.push(JSON.parse(payload.toString('utf8')) as Record<string, unknown>);
      else if (opcode === 8 && payload.length >= 2) this.closeCode = payload.readUInt16BE(0);
    }
  }
}
