// What the agent asks of its compute thread, and what comes back. One entry per task kind in
// ComputeTasks and ComputeResults, and one handler in compute-thread.ts: a new kind of local
// computation (sufficient statistics, scoring candidates, …) is one more case in each.

import type { ErrorCode } from '../shared/errors.js';
import type { FeatureStats, Preprocessing } from '../shared/feature-stats.js';
import type { TaskConfig, TrainingSettings } from '../shared/run-config.js';
import type { Study } from '../shared/study.js';
import type { NamedTensor64, Weights } from '../shared/tensors.js';
import type { CalibrationSketch } from '../shared/wire.js';
import type { EvalScore, TrainResult } from './trainer.js';

/**
 * The coordinator's task a computation answers, as it came: a hospital's rows ignore it; a region
 * (regional-compute.ts) passes it on to its own sites unchanged, round number and settings included.
 */
export interface TaskOrigin {
  runId: string;
  round: number;
  /** Train and evaluate tasks: the task's configuration, before this site's learning-rate decay and seed. */
  config?: TaskConfig;
  /** A training task whose answer is masked (secure aggregation) or clipped and noised (DP) before it is signed. */
  protectedAs?: 'secure' | 'dp';
}

export interface ComputeTasks {
  /** Counts, sums and level counts of the site's training rows. */
  stats: { study: Study; origin?: TaskOrigin };
  /** Local training from the global model on the training rows. */
  train: { study: Study; prep: Preprocessing; global: Weights; settings: TrainingSettings; proximalMu: number; origin?: TaskOrigin };
  /** Loss and metric sums of the global model on the held-out rows, and on the validation rows if any. */
  evaluate: { study: Study; prep: Preprocessing; global: Weights; origin?: TaskOrigin };
  /** Factored sufficient statistics of the training rows, per validation fold (exact ridge). */
  exactStats: { study: Study; prep: Preprocessing; folds: number; seed: number };
  /** Opens a product solve (conjugate gradient, or Newton for logistic) over the training rows: its first answer. */
  exactOpen: { study: Study; prep: Preprocessing; mode: 'products' | 'newton' };
  /** The open product solve's answer at p. */
  exactStep: { p: Float64Array };
}

export interface ComputeResults {
  stats: { stats: FeatureStats; trainRows: number };
  train: TrainResult;
  evaluate: { score: EvalScore; validation: EvalScore | null; calibration: CalibrationSketch | null };
  exactStats: { tensors: NamedTensor64[]; foldRows: number[]; n: number };
  exactOpen: { v: Float64Array; n: number; width: number };
  exactStep: { v: Float64Array };
}

export type ComputeKind = keyof ComputeTasks;

/** Given to the thread at start: where the site's rows are and how to read them. */
export interface ComputeThreadData {
  siteId: string;
  dataFile: string;
  dropBadRows: boolean;
  columnMap?: Record<string, string>;
}

export type ToThread = { [K in ComputeKind]: { id: number; kind: K; input: ComputeTasks[K] } }[ComputeKind];

export type FromThread =
  | { type: 'ready'; backend: string }
  | { type: 'start-failed'; code: ErrorCode; message: string }
  | { type: 'log'; line: string }
  | { type: 'done'; id: number; result: ComputeResults[ComputeKind] }
  | { type: 'failed'; id: number; code: ErrorCode; message: string };

/** The weights' buffers, to move them between threads instead of copying them. */
export function buffersOf(weights: Weights): ArrayBuffer[] {
  return weights.map((w) => w.data.buffer as ArrayBuffer);
}

/** Where an agent's computations run: its own compute thread (compute-worker.ts), or a simulator's thread shared by many virtual sites. */
export interface SiteCompute {
  /** tfjs backend in use ('tensorflow', 'wasm' or 'cpu'). */
  backend(): Promise<string>;
  run<K extends ComputeKind>(kind: K, input: ComputeTasks[K]): Promise<ComputeResults[K]>;
  /** Stops; a task still running fails. */
  close(): Promise<void>;
}
