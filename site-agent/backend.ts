// Picks the fastest TensorFlow.js backend this machine can run, once per process:
// tfjs-node (native, optional dependency) → wasm (portable, SIMD) → plain-JS cpu.
// FEDRX_TF_BACKEND=node|wasm|cpu forces one and fails loudly if it cannot start.

import { createRequire } from 'node:module';
import path from 'node:path';
import { FedrxError } from '../shared/errors.js';

export type Tf = typeof import('@tensorflow/tfjs');
export type BackendChoice = 'node' | 'wasm' | 'cpu';
export interface LoadedTf {
  tf: Tf;
  /** tfjs's own name of the backend in use: 'tensorflow', 'wasm' or 'cpu'. */
  backend: string;
}

const CHOICES: readonly BackendChoice[] = ['node', 'wasm', 'cpu'];
let loading: Promise<LoadedTf> | undefined;

/** Memoised: every caller in the process shares one tfjs engine and one backend. */
export function loadTf(log: (line: string) => void = () => {}): Promise<LoadedTf> {
  loading ??= pickBackend(log).catch((e: unknown) => {
    loading = undefined; // let a later call retry rather than cache the failure
    throw e;
  });
  return loading;
}

function forcedChoice(): BackendChoice | undefined {
  const raw = process.env.FEDRX_TF_BACKEND?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (!(CHOICES as readonly string[]).includes(raw)) {
    throw new FedrxError('E_BAD_REQUEST', `FEDRX_TF_BACKEND must be one of ${CHOICES.join('|')}, got "${raw}"`);
  }
  return raw as BackendChoice;
}

async function pickBackend(log: (line: string) => void): Promise<LoadedTf> {
  const forced = forcedChoice();
  const order = forced === undefined ? CHOICES : [forced];
  const started = performance.now();
  const failures: string[] = [];
  for (const choice of order) {
    try {
      const loaded = await TRY[choice]();
      const ms = Math.round(performance.now() - started);
      const why = forced ? ' (forced by FEDRX_TF_BACKEND)' : failures.length > 0 ? ` (unavailable: ${failures.join('; ')})` : '';
      log(`tfjs backend: ${loaded.backend}${why}, ready in ${ms} ms`);
      return loaded;
    } catch (e) {
      failures.push(`${choice}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new FedrxError('E_INTERNAL', `no tfjs backend could start (${failures.join('; ')})`);
}

const TRY: Record<BackendChoice, () => Promise<LoadedTf>> = {
  async node() {
    // A variable specifier: the package is optional, so the type checker must not require it.
    // It re-exports all of @tensorflow/tfjs and registers the native 'tensorflow' backend.
    const specifier = '@tensorflow/tfjs-node';
    const tf = (await import(specifier)) as unknown as Tf;
    await activate(tf, 'tensorflow');
    return { tf, backend: 'tensorflow' };
  },
  async wasm() {
    const tf = await import('@tensorflow/tfjs');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // In Node the backend cannot fetch its .wasm by URL; point it at the files next to the
    // package's main entry (dist/), read from disk. The trailing separator marks a directory.
    const main = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(path.dirname(main) + path.sep);
    await activate(tf, 'wasm');
    return { tf, backend: 'wasm' };
  },
  async cpu() {
    const tf = await import('@tensorflow/tfjs');
    await activate(tf, 'cpu');
    return { tf, backend: 'cpu' };
  },
};

/** Switches to `name` and proves it computes: setBackend can report success on a broken build. */
async function activate(tf: Tf, name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`setBackend('${name}') returned false`);
  await tf.ready();
  if (tf.getBackend() !== name) throw new Error(`backend is ${tf.getBackend()}, not ${name}`);
  const got = tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2])).dataSync());
  const want = [19, 22, 43, 50];
  if (got.length !== 4 || want.some((w, i) => got[i] !== w)) throw new Error(`backend ${name} computes wrong results`);
}
