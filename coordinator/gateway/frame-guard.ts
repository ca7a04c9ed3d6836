// Caps every incoming WebSocket frame from its header, before ws keeps any of its payload. ws
// compares each data frame's declared length (added up over fragments) with its Receiver's
// `_maxPayload`, one number per server, and closes the socket with 1009 when it is larger. This
// makes that number a function of the socket's state and of the frame's opcode, so a socket that
// has not said hello cannot declare more than a few KB, and a site only what its run expects.

import type { WebSocket } from 'ws';
import { FedrxError } from '../../shared/errors.js';
import type { FrameKind } from './frame-caps.js';

/** The fields of ws's Receiver (lib/receiver.js) this relies on; checked when a socket opens. */
interface ReceiverFields {
  _maxPayload: number;
  /** The current frame's opcode (continuations carry the first fragment's): 1 text, 2 binary. */
  _opcode: number;
}

const BINARY_OPCODE = 2;

export function capIncomingFrames(ws: WebSocket, capFor: (kind: FrameKind) => number): void {
  const receiver = (ws as unknown as { _receiver?: Partial<ReceiverFields> })._receiver;
  if (receiver === undefined || typeof receiver._maxPayload !== 'number' || typeof receiver._opcode !== 'number') {
    // A ws release that no longer reads these fields would silently drop the caps: refuse to run.
    throw new FedrxError('E_INTERNAL', 'this version of ws has no Receiver._maxPayload: incoming frames cannot be capped');
  }
  const r = receiver as ReceiverFields;
  Object.defineProperty(r, '_maxPayload', {
    configurable: true,
    // ws treats 0 as "no limit": never return it.
    get: () => Math.max(1, capFor(r._opcode === BINARY_OPCODE ? 'binary' : 'text')),
  });
}
