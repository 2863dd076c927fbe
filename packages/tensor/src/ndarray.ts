// @gpt/tensor/ndarray: conversion to and from scijs `ndarray` views (an optional peer).
// Tensors are immutable, so toNdarray copies once (a shared buffer would let ndarray
// writes change a tensor behind autograd's back); fromNdarray reads contiguous
// row-major views in one bulk copy and gathers strided views element by element.

import ndarray, { type NdArray } from 'ndarray';
import { tensor, type DType, type Tensor, type TypedArray } from './index.js';

function dtypeOf(data: unknown): DType {
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint8Array) return 'bool';
  return 'float32';
}

/** Copies a host-readable (CPU) tensor into a new ndarray with the same shape. */
export function toNdarray(t: Tensor): NdArray<TypedArray> {
  return ndarray(t.dataSync(), [...t.shape]);
}

/** Same as toNdarray for tensors on any device. */
export async function toNdarrayAsync(t: Tensor): Promise<NdArray<TypedArray>> {
  return ndarray(await t.data(), [...t.shape]);
}

function isRowMajor(arr: NdArray<ndarray.Data<number>>): boolean {
  let expected = 1;
  for (let i = arr.shape.length - 1; i >= 0; i--) {
    if (arr.shape[i]! > 1 && arr.stride[i] !== expected) return false;
    expected *= arr.shape[i]!;
  }
  return true;
}

/**
 * A tensor holding the values of an ndarray view (any strides/offset). Float32Array,
 * Int32Array and Uint8Array data keep their dtype (Uint8Array becomes bool); anything
 * else becomes float32 unless `dtype` says otherwise.
 */
export function fromNdarray(arr: NdArray<ndarray.Data<number>>, options: { dtype?: DType; device?: string } = {}): Tensor {
  const dtype = options.dtype ?? dtypeOf(arr.data);
  const shape = [...arr.shape];
  const size = shape.reduce((a, b) => a * b, 1);
  let values: ArrayLike<number>;
  if (isRowMajor(arr) && ArrayBuffer.isView(arr.data)) {
    values = (arr.data as unknown as Float32Array).subarray(arr.offset, arr.offset + size);
  } else {
    const out = new Float64Array(size);
    const index = new Array<number>(shape.length).fill(0);
    for (let i = 0; i < size; i++) {
      out[i] = arr.get(...index);
      for (let d = shape.length - 1; d >= 0; d--) {
        if (++index[d]! < shape[d]!) break;
        index[d] = 0;
      }
    }
    values = out;
  }
  const typed = ArrayBuffer.isView(values) && dtypeOf(values) === dtype && !(values instanceof Float64Array) ? (values as TypedArray) : Array.from(values);
  return tensor(typed as TypedArray | number[], { dtype, shape, device: options.device });
}
