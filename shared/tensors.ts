// Named float32 tensors: the one in-memory form of a model or an update, shared by every module.

export interface TensorSpec {
  name: string;
  shape: number[];
}

export interface NamedTensor extends TensorSpec {
  data: Float32Array;
}

export type Weights = NamedTensor[];

/** Float64 tensors: the sufficient statistics of exact fits (shared/exact/). */
export interface NamedTensor64 extends TensorSpec {
  data: Float64Array;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function totalParams(specs: readonly TensorSpec[]): number {
  let n = 0;
  for (const s of specs) n += sizeOf(s.shape);
  return n;
}

export function specsOf(weights: readonly TensorSpec[]): TensorSpec[] {
  return weights.map((t) => ({ name: t.name, shape: [...t.shape] }));
}

/** Names and shapes equal, in order. Returns the first difference, or null. */
export function specMismatch(a: readonly TensorSpec[], b: readonly TensorSpec[]): string | null {
  if (a.length !== b.length) return `expected ${b.length} tensors, got ${a.length}`;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name) return `tensor ${i}: expected name ${y.name}, got ${x.name}`;
    if (x.shape.length !== y.shape.length || x.shape.some((d, j) => d !== y.shape[j])) {
      return `tensor ${y.name}: expected shape [${y.shape.join(',')}], got [${x.shape.join(',')}]`;
    }
  }
  return null;
}

/** Index of the first NaN or ±Infinity, as [tensor name, flat index], or null when all are finite. */
export function firstNonFinite(weights: Weights): [string, number] | null {
  for (const t of weights) {
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      // x - x is NaN exactly when x is NaN or ±Infinity: one branch per value on the hot path.
      if (d[i]! - d[i]! !== 0) return [t.name, i];
    }
  }
  return null;
}

export function cloneWeights(weights: Weights): Weights {
  return weights.map((t) => ({ name: t.name, shape: [...t.shape], data: new Float32Array(t.data) }));
}
