// The float64 arrays the reference implementations compute on. Deliberately
// independent of @gpt/tensor: plain row-major Float64Array plus a shape, with
// its own broadcasting and index arithmetic, so a bug in the library's shape
// code cannot hide in the expected values.

import type { DType } from '@gpt/tensor';

export interface NdArray {
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Row-major values; integers and booleans (0/1) are stored as numbers too. */
  readonly data: Float64Array;
}

export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

export function nd(shape: readonly number[], data: ArrayLike<number>, dtype: DType = 'float32'): NdArray {
  if (data.length !== sizeOf(shape)) {
    throw new Error(`reference: ${data.length} values for shape [${shape.join(', ')}]`);
  }
  return { shape: [...shape], dtype, data: Float64Array.from(data) };
}

export function filled(shape: readonly number[], value: number, dtype: DType = 'float32'): NdArray {
  return { shape: [...shape], dtype, data: new Float64Array(sizeOf(shape)).fill(value) };
}

export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** Coordinates of flat index `index` in `shape`. */
export function unravel(index: number, shape: readonly number[]): number[] {
  const coords = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    coords[i] = index % d;
    index = Math.floor(index / d);
  }
  return coords;
}

export function ravel(coords: readonly number[], shape: readonly number[]): number {
  let index = 0;
  for (let i = 0; i < shape.length; i++) index = index * shape[i]! + coords[i]!;
  return index;
}

/** NumPy broadcasting, written out independently of the library's version. */
export function broadcastShape(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let size = 1;
    for (const s of shapes) {
      const d = s[s.length - rank + i] ?? 1;
      if (d !== 1) {
        if (size !== 1 && size !== d) throw new Error(`reference: cannot broadcast ${JSON.stringify(shapes)}`);
        size = d;
      }
    }
    out.push(size);
  }
  return out;
}

/** The value of `a` at output coordinates `coords` of a broadcast result of higher or equal rank. */
export function broadcastRead(a: NdArray, coords: readonly number[]): number {
  const lead = coords.length - a.shape.length;
  let index = 0;
  for (let i = 0; i < a.shape.length; i++) {
    const d = a.shape[i]!;
    index = index * d + (d === 1 ? 0 : coords[lead + i]!);
  }
  return a.data[index]!;
}

/** Applies `fn` elementwise over broadcast inputs. */
export function mapBroadcast(dtype: DType, inputs: readonly NdArray[], fn: (...values: number[]) => number): NdArray {
  const shape = broadcastShape(...inputs.map((t) => t.shape));
  const data = new Float64Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) {
    const coords = unravel(i, shape);
    data[i] = fn(...inputs.map((t) => broadcastRead(t, coords)));
  }
  return { shape, dtype, data };
}

export function normalizeAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`reference: axis ${axis} out of range for rank ${rank}`);
  return a;
}
