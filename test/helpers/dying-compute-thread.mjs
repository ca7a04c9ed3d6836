// A stand-in compute thread for tests of the agent's side: ready at once, then on its first task
// throws outside any handler (the thread dies), as an out-of-memory or a native crash would.
import { parentPort } from 'node:worker_threads';

parentPort.on('message', (msg) => {
  if (msg.kind === 'stats') {
    parentPort.postMessage({ type: 'done', id: msg.id, result: { stats: { rows: 0, numeric: {}, levels: {} }, trainRows: 0 } });
    return;
  }
  setImmediate(() => {
    throw new Error('simulated crash in the compute thread');
  });
});
parentPort.postMessage({ type: 'ready', backend: 'stand-in' });
