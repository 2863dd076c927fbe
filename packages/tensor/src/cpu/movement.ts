// Data-movement kernels: permute, expand, slice, pad, concat, gather, scatterAdd.
// All are strided copies; none does arithmetic except scatterAdd's accumulation.

import { allocTyped, type TypedArray } from '../dtype.js';
import type { OpAttrs, TensorMeta } from '../ops.js';
import { broadcastStrides, normalizeAxis, shapeToString, sizeOf, stridesOf, type Shape } from '../shape.js';
import type { TensorInfo } from '../backend.js';
import { stridedCopy } from './strided.js';

type Info = TensorInfo<TypedArray>;

export function permute(x: Info, { perm }: OpAttrs['permute'], out: TensorMeta): TypedArray {
  const inStrides = stridesOf(x.shape);
  const result = allocTyped(out.dtype, sizeOf(out.shape));
  stridedCopy(x.buffer, perm.map((p) => inStrides[p]!), 0, out.shape, result);
  return result;
}

export function expand(x: Info, out: TensorMeta): TypedArray {
  const result = allocTyped(out.dtype, sizeOf(out.shape));
  stridedCopy(x.buffer, broadcastStrides(x.shape, out.shape), 0, out.shape, result);
  return result;
}

export function slice(x: Info, { begin }: OpAttrs['slice'], out: TensorMeta): TypedArray {
  const strides = stridesOf(x.shape);
  const offset = begin.reduce((acc, b, i) => acc + b * strides[i]!, 0);
  const result = allocTyped(out.dtype, sizeOf(out.shape));
  stridedCopy(x.buffer, strides, offset, out.shape, result);
  return result;
}

export function pad(x: Info, { pads, value }: OpAttrs['pad'], out: TensorMeta): TypedArray {
  const result = allocTyped(out.dtype, sizeOf(out.shape));
  if (!Object.is(value, 0)) result.fill(value); // -0 too: a fresh array holds +0
  const outStrides = stridesOf(out.shape);
  const offset = pads.reduce((acc, [before], i) => acc + before * outStrides[i]!, 0);
  stridedCopy(x.buffer, stridesOf(x.shape), 0, x.shape, result, offset, outStrides);
  return result;
}

export function concat(inputs: readonly Info[], { axis }: OpAttrs['concat'], out: TensorMeta): TypedArray {
  const ax = normalizeAxis('concat', axis, out.shape.length);
  const result = allocTyped(out.dtype, sizeOf(out.shape));
  const outStrides = stridesOf(out.shape);
  let start = 0;
  for (const t of inputs) {
    stridedCopy(t.buffer, stridesOf(t.shape), 0, t.shape, result, start * outStrides[ax]!, outStrides);
    start += t.shape[ax]!;
  }
  return result;
}

/** Visits every element of `index` (rank r) with its flat position and the flat position in a tensor of `shape`
 * that has the same coordinates except along `axis`, where the index value is used. */
function forEachIndexed(
  op: string,
  index: Int32Array,
  indexShape: Shape,
  shape: Shape,
  axis: number,
  body: (indexPos: number, targetPos: number) => void,
): void {
  const targetStrides = stridesOf(shape);
  const rank = indexShape.length;
  const coord = new Array<number>(rank).fill(0);
  const size = shape[axis]!;
  for (let p = 0; p < index.length; p++) {
    const v = index[p]!;
    if (v < -size || v >= size) {
      throw new Error(`${op}: index ${v} is out of range for axis ${axis} of size ${size} in ${shapeToString(shape)}`);
    }
    let target = 0;
    for (let d = 0; d < rank; d++) target += (d === axis ? (v < 0 ? v + size : v) : coord[d]!) * targetStrides[d]!;
    body(p, target);
    for (let d = rank - 1; d >= 0; d--) {
      if (++coord[d]! < indexShape[d]!) break;
      coord[d] = 0;
    }
  }
}

export function gather(inputs: readonly Info[], { axis }: OpAttrs['gather'], out: TensorMeta): TypedArray {
  const [x, index] = inputs as [Info, Info];
  const ax = normalizeAxis('gather', axis, x.shape.length);
  const result = allocTyped(out.dtype, sizeOf(out.shape));
  const src = x.buffer;
  forEachIndexed('gather', index.buffer as Int32Array, index.shape, x.shape, ax, (p, t) => {
    result[p] = src[t]!;
  });
  return result;
}

export function scatterAdd(inputs: readonly Info[], { axis }: OpAttrs['scatterAdd'], out: TensorMeta): TypedArray {
  const [x, index, src] = inputs as [Info, Info, Info];
  const ax = normalizeAxis('scatterAdd', axis, x.shape.length);
  const result = allocTyped(out.dtype, sizeOf(out.shape));
  result.set(x.buffer);
  const values = src.buffer;
  forEachIndexed('scatterAdd', index.buffer as Int32Array, index.shape, x.shape, ax, (p, t) => {
    result[t] = result[t]! + values[p]!;
  });
  return result;
}
