// Merging axes before a strided kernel runs: size-1 axes are dropped and adjacent
// axes that every operand walks contiguously become one, so most broadcasts and
// copies reach the GPU as rank 1 or 2 and the per-element index arithmetic stays short.

import { shapeToString } from '../../shape.js';
import { MAX_RANK } from './wgsl.js';

export interface StridedLayout {
  readonly shape: number[];
  /** One stride list per operand, aligned with `shape`. */
  readonly strides: number[][];
}

/** Merges axes of `shape` that all stride lists traverse as one (row-major order is kept). */
export function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): StridedLayout {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const size = shape[d]!;
    if (size === 1) continue;
    const last = outShape.length - 1;
    // Axis d (outer) merges into the previous kept axis when stride[prev] == stride[d] * size[d].
    const mergeable = last >= 0 && strides.every((s, k) => outStrides[k]![last] === s[d]! * size);
    if (mergeable) {
      outShape[last] = outShape[last]! * size;
      strides.forEach((s, k) => (outStrides[k]![last] = s[d]!));
    } else {
      outShape.push(size);
      strides.forEach((s, k) => outStrides[k]!.push(s[d]!));
    }
  }
  return { shape: outShape, strides: outStrides };
}

/** Throws a clear error when a layout still has more axes than the kernels handle. */
export function assertRank(op: string, layout: StridedLayout, original: readonly number[]): void {
  if (layout.shape.length > MAX_RANK) {
    throw new Error(
      `${op}: the WebGPU backend handles at most ${MAX_RANK} non-mergeable axes, got ${layout.shape.length} for shape ${shapeToString(original)}`,
    );
  }
}
