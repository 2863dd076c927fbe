// Odometer iteration over an output shape while reading inputs through arbitrary
// strides: the one loop behind broadcasting, permute, expand, slice and pad.

import type { Shape } from '../shape.js';

/**
 * Calls `body(outIndex, offsets)` for every element of `shape` in row-major order,
 * where offsets[j] = base[j] + sum_d coord[d] * strides[j][d].
 * The innermost axis runs as a tight loop inside `inner` for speed.
 */
export function forEachStrided(
  shape: Shape,
  strides: readonly (readonly number[])[],
  base: readonly number[],
  inner: (outStart: number, count: number, offsets: Int32Array | number[], innerStrides: number[]) => void,
): void {
  const rank = shape.length;
  const nInputs = strides.length;
  const offsets = base.slice();
  if (rank === 0) {
    inner(0, 1, offsets, strides.map(() => 0));
    return;
  }
  for (const d of shape) if (d === 0) return;
  const last = shape[rank - 1]!;
  const innerStrides = strides.map((s) => s[rank - 1]!);
  const coord = new Array<number>(rank - 1).fill(0);
  let outStart = 0;
  for (;;) {
    inner(outStart, last, offsets, innerStrides);
    outStart += last;
    // Advance the odometer over the outer axes.
    let axis = rank - 2;
    while (axis >= 0) {
      coord[axis]!++;
      for (let j = 0; j < nInputs; j++) offsets[j]! += strides[j]![axis]!;
      if (coord[axis]! < shape[axis]!) break;
      for (let j = 0; j < nInputs; j++) offsets[j]! -= strides[j]![axis]! * shape[axis]!;
      coord[axis] = 0;
      axis--;
    }
    if (axis < 0) return;
  }
}

/** Copies `src` read through `srcStrides` (starting at `srcOffset`) into a dense `dst` of `shape`. */
export function stridedCopy(
  src: ArrayLike<number>,
  srcStrides: readonly number[],
  srcOffset: number,
  shape: Shape,
  dst: { [i: number]: number },
  dstOffset = 0,
  dstStrides?: readonly number[],
): void {
  if (dstStrides) {
    forEachStrided(shape, [srcStrides, dstStrides], [srcOffset, dstOffset], (_o, count, off, st) => {
      let s = off[0]!;
      let d = off[1]!;
      const ss = st[0]!;
      const ds = st[1]!;
      for (let i = 0; i < count; i++, s += ss, d += ds) dst[d] = src[s]!;
    });
    return;
  }
  forEachStrided(shape, [srcStrides], [srcOffset], (outStart, count, off, st) => {
    let s = off[0]!;
    const ss = st[0]!;
    const o = dstOffset + outStart;
    for (let i = 0; i < count; i++, s += ss) dst[o + i] = src[s]!;
  });
}
