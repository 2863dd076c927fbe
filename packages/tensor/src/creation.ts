// Creating tensors: from JS arrays and typed arrays, constants, ranges.

import { allocTyped, isDType, toTyped, type DType, type TypedArray } from './dtype.js';
import { runOp } from './engine.js';
import { assertValidShape, shapeToString, sizeOf } from './shape.js';
import { uploadStorage } from './storage.js';
import { fromStorage, type Tensor } from './tensor.js';

export interface CreateOptions {
  dtype?: DType;
  device?: string;
}

type Nested = number | boolean | readonly Nested[];

function inferShape(values: Nested): number[] {
  const shape: number[] = [];
  let level: Nested = values;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0] as Nested;
  }
  return shape;
}

function flattenChecked(values: Nested, shape: readonly number[], axis: number, out: (number | boolean)[]): void {
  if (axis === shape.length) {
    if (Array.isArray(values)) throw new Error(`tensor: ragged nested array (expected shape ${shapeToString(shape)})`);
    if (typeof values !== 'number' && typeof values !== 'boolean') {
      throw new Error(`tensor: element ${String(values)} is not a number or boolean`);
    }
    out.push(values as number | boolean);
    return;
  }
  if (!Array.isArray(values) || values.length !== shape[axis]) {
    throw new Error(`tensor: ragged nested array: axis ${axis} should have length ${shape[axis]} (shape ${shapeToString(shape)})`);
  }
  for (const v of values as readonly Nested[]) flattenChecked(v, shape, axis + 1, out);
}

function defaultDType(values: TypedArray | readonly unknown[]): DType {
  if (values instanceof Int32Array) return 'int32';
  if (values instanceof Uint8Array) return 'bool';
  if (values instanceof Float32Array) return 'float32';
  return values.length > 0 && typeof values[0] === 'boolean' ? 'bool' : 'float32';
}

/**
 * A tensor from a number, a (nested) array or a typed array. Typed arrays need
 * `shape` unless 1-D; the dtype defaults from the data (bool for booleans,
 * int32 for Int32Array, else float32).
 */
export function tensor(values: Nested | TypedArray, options: CreateOptions & { shape?: readonly number[] } = {}): Tensor {
  if (options.dtype !== undefined && !isDType(options.dtype)) throw new Error(`tensor: unknown dtype "${String(options.dtype)}"`);
  let flat: TypedArray | (number | boolean)[];
  let shape: number[];
  if (ArrayBuffer.isView(values)) {
    flat = values as TypedArray;
    shape = options.shape ? [...options.shape] : [flat.length];
  } else {
    shape = inferShape(values as Nested);
    const items: (number | boolean)[] = [];
    flattenChecked(values as Nested, shape, 0, items);
    flat = items;
    if (options.shape) shape = [...options.shape];
  }
  assertValidShape('tensor', shape);
  if (sizeOf(shape) !== flat.length) {
    throw new Error(`tensor: ${flat.length} values do not fill shape ${shapeToString(shape)} (${sizeOf(shape)} elements)`);
  }
  const dtype = options.dtype ?? defaultDType(flat);
  const typed = flat instanceof (allocTyped(dtype, 0).constructor as typeof Float32Array) ? (flat as TypedArray) : toTyped(dtype, flat);
  return fromStorage(uploadStorage(typed, { shape, dtype }, options.device), shape, dtype, 'tensor');
}

export function full(shape: readonly number[], value: number, options: CreateOptions = {}): Tensor {
  return runOp('fill', [], { shape, dtype: options.dtype ?? 'float32', value }, options.device);
}

export const zeros = (shape: readonly number[], options: CreateOptions = {}): Tensor => full(shape, 0, options);
export const ones = (shape: readonly number[], options: CreateOptions = {}): Tensor => full(shape, 1, options);

export const zerosLike = (t: Tensor): Tensor => full(t.shape, 0, { dtype: t.dtype, device: t.device });
export const onesLike = (t: Tensor): Tensor => full(t.shape, 1, { dtype: t.dtype, device: t.device });
export const fullLike = (t: Tensor, value: number): Tensor => full(t.shape, value, { dtype: t.dtype, device: t.device });

/** Values start, start+step, ... below end (like torch.arange). */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (step === 0 || !Number.isFinite(step)) throw new Error(`arange: step must be a non-zero finite number, got ${step}`);
  const count = Math.max(0, Math.ceil((end - start) / step));
  const dtype = options.dtype ?? (Number.isInteger(start) && Number.isInteger(step) && Number.isInteger(end) ? 'int32' : 'float32');
  const values = allocTyped(dtype, count);
  for (let i = 0; i < count; i++) values[i] = start + i * step;
  return fromStorage(uploadStorage(values, { shape: [count], dtype }, options.device), [count], dtype, 'arange');
}

/** `count` evenly spaced values from start to end inclusive. */
export function linspace(start: number, end: number, count: number, options: CreateOptions = {}): Tensor {
  if (!Number.isInteger(count) || count < 0) throw new Error(`linspace: count must be a non-negative integer, got ${count}`);
  const dtype = options.dtype ?? 'float32';
  const values = allocTyped(dtype, count);
  for (let i = 0; i < count; i++) values[i] = count === 1 ? start : start + ((end - start) * i) / (count - 1);
  return fromStorage(uploadStorage(values, { shape: [count], dtype }, options.device), [count], dtype, 'linspace');
}

/** Identity matrix [n, m]. */
export function eye(n: number, m = n, options: CreateOptions = {}): Tensor {
  assertValidShape('eye', [n, m]);
  const dtype = options.dtype ?? 'float32';
  const values = allocTyped(dtype, n * m);
  for (let i = 0; i < Math.min(n, m); i++) values[i * m + i] = 1;
  return fromStorage(uploadStorage(values, { shape: [n, m], dtype }, options.device), [n, m], dtype, 'eye');
}

export function scalar(value: number, options: CreateOptions = {}): Tensor {
  return tensor(value, options);
}
