// Moving tensors between devices for modules, optimizers and EMA. A copy from a
// device the host can read (the CPU) is synchronous; a copy out of any other device
// (WebGPU) needs an await, so the synchronous APIs refuse it with an error that names
// the async variant to call instead, like Tensor.to / Tensor.toAsync.

import { getBackend, tensor, type Tensor, type TypedArray } from '@gpt/tensor';

/** Whether `t`'s data can be read synchronously (its backend has readSync). */
export function isHostReadable(t: Tensor): boolean {
  return getBackend(t.device).readSync !== undefined;
}

/**
 * A copy of `t` on `device` (a new handle on the same data if it is there already).
 * Throws `unreadable()` when that needs a device-to-host read.
 */
export function toDeviceSync(t: Tensor, device: string, unreadable: () => string): Tensor {
  if (t.device === device) return t.detach();
  if (!isHostReadable(t)) throw new Error(unreadable());
  return t.to(device);
}

/** Host values as a tensor of `like`'s shape and dtype on `device`. */
export function uploadLike(values: TypedArray, like: Tensor, device: string): Tensor {
  return tensor(values, { shape: like.shape, dtype: like.dtype, device });
}

/** Runs `make` for every item; if one throws, disposes the tensors made so far. */
export function makeAll<T>(items: readonly T[], make: (item: T) => Tensor): Tensor[] {
  const made: Tensor[] = [];
  try {
    for (const item of items) made.push(make(item));
  } catch (error) {
    for (const t of made) t.dispose();
    throw error;
  }
  return made;
}

/** The typed-array class that holds `dtype` on the host (what dict values may be). */
export function typedArrayName(dtype: Tensor['dtype']): string {
  return dtype === 'float32' ? 'Float32Array' : dtype === 'int32' ? 'Int32Array' : 'Uint8Array';
}

/** Whether `values` is the host array of `dtype` (Float32Array for float32, ...). */
export function holdsDtype(values: TypedArray, dtype: Tensor['dtype']): boolean {
  return dtype === 'float32' ? values instanceof Float32Array : dtype === 'int32' ? values instanceof Int32Array : values instanceof Uint8Array;
}
