// A stand-in compute thread for tests of the agent's task handling: a training task ends only once
// the test lets it (a file `<dataFile>.go` exists), so a test holds the site busy for as long as it
// needs, without timing. Each training is logged, so a test counts them.
import { existsSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const go = `${workerData.dataFile}.go`;
const log = (line) => parentPort.postMessage({ type: 'log', line });
const released = async () => {
  while (!existsSync(go)) await new Promise((r) => setTimeout(r, 10));
};
const sums = { n: 5, absErr: 10, within20: 2, sqErr: 30, sumY: 150, sumY2: 5000 };

const answers = {
  async train({ global, settings }) {
    log(`stand-in: training with seed ${settings.seed}`);
    await released();
    return { weights: global.map((t) => ({ name: t.name, shape: t.shape, data: t.data.map((x) => x + 0.5) })), trainLoss: 0.25, numExamples: 10 };
  },
  async evaluate() {
    return { score: { loss: 1.5, numExamples: 5, sums }, validation: null, calibration: null };
  },
};

let queue = Promise.resolve();
parentPort.on('message', (msg) => {
  queue = queue.then(async () => {
    const answer = answers[msg.kind];
    if (answer === undefined) parentPort.postMessage({ type: 'failed', id: msg.id, code: 'E_INTERNAL', message: `the stand-in does no ${msg.kind}` });
    else parentPort.postMessage({ type: 'done', id: msg.id, result: await answer(msg.input) });
  });
});
parentPort.postMessage({ type: 'ready', backend: 'stand-in' });
