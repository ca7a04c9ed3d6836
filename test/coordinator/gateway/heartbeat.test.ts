// The heartbeat on fake sockets and fake time: a silent socket is terminated at the second tick;
// one the coordinator is still writing to (a large model on its way out) is not judged until a
// whole interval after its bytes have gone.

import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WebSocket, WebSocketServer } from 'ws';
import { Heartbeat } from '../../../coordinator/gateway/heartbeat.js';

class FakeSocket extends EventEmitter {
  bufferedAmount = 0;
  pings = 0;
  ping(): void {
    this.pings++;
  }
}

function server(clients: Set<FakeSocket>): WebSocketServer {
  return Object.assign(new EventEmitter(), { clients }) as unknown as WebSocketServer;
}

/** One heartbeat interval, and the judging that follows it. */
const tick = (): void => {
  vi.advanceTimersByTime(1000);
  vi.advanceTimersByTime(1);
};

beforeEach(() => vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setImmediate', 'performance'] }));
afterEach(() => vi.useRealTimers());

describe('heartbeat', () => {
  it('terminates a socket silent for a whole interval, but not one it is still writing to', () => {
    const silent = new FakeSocket();
    const busy = new FakeSocket();
    const clients = new Set([silent, busy]);
    const wss = server(clients);
    const gone: string[] = [];
    const hb = new Heartbeat(wss, 1000, (ws) => {
      clients.delete(ws as unknown as FakeSocket);
      gone.push(ws === (silent as unknown as WebSocket) ? 'silent' : 'busy');
    });
    for (const s of [silent, busy]) wss.emit('connection', s);
    busy.bufferedAmount = 600e6;
    tick(); // first ping to each that is not being written to
    tick(); // silent has not answered: terminated
    expect(gone).toEqual(['silent']);
    expect(busy.pings).toBe(0);
    busy.bufferedAmount = 0; // its bytes are out
    tick(); // pinged now, judged at the next tick
    expect(busy.pings).toBe(1);
    busy.emit('pong');
    tick();
    expect(gone).toEqual(['silent']);
    tick(); // no answer to the last ping
    expect(gone).toEqual(['silent', 'busy']);
    hb.stop();
  });
});
