// The heartbeat: every socket is pinged at an interval; one that has not answered the previous
// ping is terminated. A tick that comes late means this process was busy, so nobody is judged on
// it; nor is a socket this process is still writing to (a large model on its way out: the ping
// waits behind it). Also measures each socket's round trip.

import type { WebSocket, WebSocketServer } from 'ws';

export class Heartbeat {
  private readonly timer: NodeJS.Timeout;
  private readonly alive = new WeakSet<WebSocket>();
  private readonly sentAt = new WeakMap<WebSocket, number>();
  private readonly rtt = new WeakMap<WebSocket, number>();

  constructor(wss: WebSocketServer, intervalMs: number, terminate: (ws: WebSocket, why: string) => void) {
    wss.on('connection', (ws) => {
      this.alive.add(ws);
      ws.on('pong', () => {
        this.alive.add(ws);
        const sent = this.sentAt.get(ws);
        if (sent !== undefined) this.rtt.set(ws, performance.now() - sent);
      });
    });
    let lastTick = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      const late = now - lastTick > 1.5 * intervalMs;
      lastTick = now;
      const suspects: WebSocket[] = [];
      for (const ws of wss.clients) {
        if (ws.bufferedAmount > 0) {
          // Judged a whole interval after our bytes have gone out, not before.
          this.alive.add(ws);
          continue;
        }
        if (!this.alive.has(ws) && !late) {
          suspects.push(ws);
          continue;
        }
        this.alive.delete(ws);
        this.sentAt.set(ws, now);
        ws.ping();
      }
      // Judged after this turn's I/O, so a pong already received but not yet read still counts.
      if (suspects.length > 0) {
        setImmediate(() => {
          for (const ws of suspects) if (!this.alive.has(ws)) terminate(ws, `no answer to the heartbeat within ${intervalMs / 1000} s`);
        });
      }
    }, intervalMs);
    this.timer.unref();
  }

  /** Round trip of the socket's last answered ping (ms), null before the first. */
  pingMs(ws: WebSocket): number | null {
    return this.rtt.get(ws) ?? null;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
