// The interface every backend implements. Backends are thin: they allocate,
// upload, read and run one kernel per op; semantics (shapes, dtypes, validation)
// live in ops.ts and gradients in gradients.ts, so a backend never sees autograd.

import type { DType, TypedArray } from './dtype.js';
import type { MultiOutputOp, OpAttrs, OpName, TensorMeta } from './ops.js';
import type { Shape } from './shape.js';

/** A tensor as a kernel sees it: a contiguous row-major buffer plus its shape and dtype. */
export interface TensorInfo<B = unknown> {
  readonly buffer: B;
  readonly shape: Shape;
  readonly dtype: DType;
}

/** Ops every backend implements. `reshape` is absent: it is a view handled by the engine. */
export type KernelOp = Exclude<OpName, 'reshape'>;

/** What a kernel returns: one buffer, or one per output for the ops of MULTI_OUTPUT (all of meta `out`). */
export type KernelOutput<K extends KernelOp, B> = K extends MultiOutputOp ? readonly B[] : B;

export type Kernel<K extends KernelOp, B> = (
  inputs: readonly TensorInfo<B>[],
  attrs: OpAttrs[K],
  out: TensorMeta,
) => KernelOutput<K, B>;

/** One kernel per op: a backend missing one does not compile. */
export type Kernels<B> = { readonly [K in KernelOp]: Kernel<K, B> };

export interface BackendMemory {
  /** Bytes held by live buffers. */
  readonly bytes: number;
  /** Buffers kept in a pool for reuse (0 for backends without a pool). */
  readonly pooledBuffers: number;
}

export interface Backend<B = unknown> {
  /** Device name used in `tensor.device` and `setDefaultDevice`, e.g. "cpu" or "webgpu". */
  readonly name: string;
  upload(values: TypedArray, dtype: DType): B;
  /** Reads a buffer back to the host; resolves once the device has finished writing it. */
  read(buffer: B, dtype: DType, size: number): Promise<TypedArray>;
  /** Synchronous read, only for backends whose memory the host can see (the CPU). */
  readSync?(buffer: B, dtype: DType, size: number): TypedArray;
  free(buffer: B): void;
  run<K extends KernelOp>(op: K, inputs: readonly TensorInfo<B>[], attrs: OpAttrs[K], out: TensorMeta): KernelOutput<K, B>;
  memory(): BackendMemory;
  /**
   * Whether scaledDotProductAttention should run the fused `attention` op here for items of
   * `tq` queries and `tk` keys. Absent (the CPU): the composite of matmuls and softmax runs,
   * whose products use the fast GEMM.
   */
  fusesAttention?(tq: number, tk: number): boolean;
  /** Waits until all submitted work has finished (no-op on synchronous backends). */
  sync?(): Promise<void>;
}
