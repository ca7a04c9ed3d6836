// A site's side of a federated conjugate-gradient ridge solve on wide data: with X̃ = [X 1],
// first X̃ᵀy (and yᵀy), then for each direction p the product X̃ᵀ(X̃·p). Pure over the rows.

import type { DataPart } from './local-data.js';

/** [X̃ᵀy (d+1), then yᵀy]. */
export function crossProducts(train: DataPart, width: number): Float64Array {
  const out = new Float64Array(width + 2);
  for (let r = 0; r < train.n; r++) {
    const y = train.y[r]!;
    const row = r * width;
    for (let j = 0; j < width; j++) out[j]! += train.x[row + j]! * y;
    out[width]! += y;
    out[width + 1]! += y * y;
  }
  return out;
}

/** X̃ᵀ(X̃·p) for p of width + 1 values (the last multiplies the ones column). */
export function gramProduct(train: DataPart, width: number, p: Float64Array): Float64Array {
  const out = new Float64Array(width + 1);
  for (let r = 0; r < train.n; r++) {
    const row = r * width;
    let s = p[width]!;
    for (let j = 0; j < width; j++) s += train.x[row + j]! * p[j]!;
    for (let j = 0; j < width; j++) out[j]! += train.x[row + j]! * s;
    out[width]! += s;
  }
  return out;
}
