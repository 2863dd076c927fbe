// The Tensor handle and the tape node that produced it. A handle is cheap: shape,
// dtype and a reference to a device storage, which is freed when the last handle
// (or a handle the tape saved) releases it. The op methods (add, matmul, backward,
// ...) are declared here in TensorMethods and implemented in tensor-methods.ts, above
// the ops they call, so that this file and the engine stay below them.

import type { DType, TypedArray } from './dtype.js';
import { formatTensor } from './format.js';
import { nextTensorId, registerLive, unregisterLive } from './live-tensors.js';
import { SAVED_FOR_BACKWARD, type OpName, type SavedForBackward, type TensorMeta } from './ops.js';
import { track } from './scopes.js';
import { shapeToString, sizeOf, type Shape } from './shape.js';
import { getBackend, uploadStorage, type Storage } from './storage.js';

/** A tensor, or a number that becomes a scalar of the other operand's dtype. */
export type Operand = Tensor | number;

/** The op methods of every Tensor: thin aliases of the functions in ops-*.ts and autograd.ts. */
export interface TensorMethods {
  /** Computes gradients of this tensor with respect to every leaf that requires grad. */
  backward(grad?: Tensor, options?: { retainGraph?: boolean }): void;
  add(other: Operand): Tensor;
  sub(other: Operand): Tensor;
  mul(other: Operand): Tensor;
  div(other: Operand): Tensor;
  pow(other: Operand): Tensor;
  maximum(other: Operand): Tensor;
  minimum(other: Operand): Tensor;
  equal(other: Operand): Tensor;
  notEqual(other: Operand): Tensor;
  less(other: Operand): Tensor;
  lessEqual(other: Operand): Tensor;
  greater(other: Operand): Tensor;
  greaterEqual(other: Operand): Tensor;
  neg(): Tensor;
  exp(): Tensor;
  log(): Tensor;
  sqrt(): Tensor;
  rsqrt(): Tensor;
  abs(): Tensor;
  square(): Tensor;
  sin(): Tensor;
  cos(): Tensor;
  tanh(): Tensor;
  sigmoid(): Tensor;
  relu(): Tensor;
  gelu(): Tensor;
  selu(): Tensor;
  clamp(min?: number, max?: number): Tensor;
  sum(axes?: number | number[], keepdim?: boolean): Tensor;
  mean(axes?: number | number[], keepdim?: boolean): Tensor;
  max(axes?: number | number[], keepdim?: boolean): Tensor;
  min(axes?: number | number[], keepdim?: boolean): Tensor;
  argmax(axis?: number, keepdim?: boolean): Tensor;
  argmin(axis?: number, keepdim?: boolean): Tensor;
  matmul(other: Tensor): Tensor;
  softmax(axis?: number): Tensor;
  logSoftmax(axis?: number): Tensor;
  astype(dtype: DType): Tensor;
  reshape(shape: readonly number[]): Tensor;
  flatten(startAxis?: number, endAxis?: number): Tensor;
  permute(perm: readonly number[]): Tensor;
  transpose(axis0?: number, axis1?: number): Tensor;
  expand(shape: readonly number[]): Tensor;
  squeeze(axes?: number | number[]): Tensor;
  unsqueeze(axis: number): Tensor;
  slice(ranges: readonly (readonly [number, number] | number | null)[]): Tensor;
}

// Class and interface merge: every Tensor has these methods once the package entry has
// installed them (installTensorMethods in tensor-methods.ts).
export interface Tensor extends TensorMethods {}

export class Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** @internal the buffer this handle views */
  storage: Storage;
  /** Whether gradients flow to this tensor. Set it on leaves (parameters); ops propagate it. */
  requiresGrad = false;
  /** Accumulated gradient of a leaf tensor after backward(), or null. */
  grad: Tensor | null = null;
  /** @internal the tape node that produced this tensor */
  node: Node | null = null;
  /** A unique id, growing in creation order (see memoryMark). */
  readonly id = nextTensorId();
  /** @internal the op or creation function that made this handle (liveTensorsSince reports it) */
  readonly origin: string;
  /** @internal a handle the tape keeps for backward, outside tidy scopes */
  readonly savedForBackward: boolean;
  private disposed = false;

  /** @internal use the creation functions (tensor, zeros, ...) instead */
  constructor(storage: Storage, shape: Shape, dtype: DType, origin: string, savedForBackward = false) {
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.origin = origin;
    this.savedForBackward = savedForBackward;
    registerLive(this);
    if (!savedForBackward) track(this);
  }

  get device(): string {
    return this.storage.backend.name;
  }
  get rank(): number {
    return this.shape.length;
  }
  get size(): number {
    return sizeOf(this.shape);
  }
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Frees this handle; the data goes once no other handle or saved tensor needs it. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    unregisterLive(this);
    this.storage.release();
    // The node pointer stays: later nodes reach their inputs' producers through it.
    this.node?.release();
    this.grad?.dispose();
    this.grad = null;
  }
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** @internal throws a clear error when a disposed tensor is used */
  assertAlive(op: string): void {
    if (this.disposed) throw new Error(`${op}: tensor #${this.id} ${shapeToString(this.shape)} was disposed and cannot be used`);
  }

  /** @internal a second handle on the same storage, outside tidy scopes (used by the tape) */
  shareStorage(): Tensor {
    return new Tensor(this.storage.retain(), this.shape, this.dtype, this.origin, true);
  }

  // ---- reading data ----------------------------------------------------------

  /** Copies the data to the host. Works on every device. */
  async data(): Promise<TypedArray> {
    this.assertAlive('data');
    return this.storage.backend.read(this.storage.buffer, this.dtype, this.size);
  }

  /** Synchronous copy to the host; only for devices whose memory the host can read (the CPU). */
  dataSync(): TypedArray {
    this.assertAlive('dataSync');
    const backend = this.storage.backend;
    if (!backend.readSync) {
      throw new Error(`dataSync: tensor lives on "${backend.name}", which cannot be read synchronously; use await tensor.data()`);
    }
    return backend.readSync(this.storage.buffer, this.dtype, this.size);
  }

  /** The single value of a one-element tensor (synchronous: CPU only). */
  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor has ${this.size} elements, expected 1 (shape ${shapeToString(this.shape)})`);
    return this.dataSync()[0]!;
  }

  /** The data as nested JS arrays (synchronous: CPU only). */
  toArray(): unknown {
    const flat = Array.from(this.dataSync());
    const build = (axis: number, offset: number): unknown => {
      if (axis === this.rank) return flat[offset];
      const stride = sizeOf(this.shape.slice(axis + 1));
      return Array.from({ length: this.shape[axis]! }, (_, i) => build(axis + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  toString(): string {
    if (this.disposed) return `Tensor(disposed, shape=${shapeToString(this.shape)}, dtype=${this.dtype})`;
    const backend = this.storage.backend;
    const values = backend.readSync ? backend.readSync(this.storage.buffer, this.dtype, this.size) : null;
    return formatTensor(values, this.shape, this.dtype, this.device, this.requiresGrad);
  }

  // ---- devices, dtypes, graph ---------------------------------------------------

  /**
   * Copies the tensor to another device (a new leaf, not connected to the autograd graph;
   * on the same device a handle sharing the data). Synchronous when the source is
   * host-readable (CPU); from other devices use `await t.toAsync(device)`.
   */
  to(device: string): Tensor {
    if (device === this.device) return this.detach();
    const values = this.dataSync();
    return fromStorage(uploadStorage(values, this, device), this.shape, this.dtype, 'to');
  }

  async toAsync(device: string): Promise<Tensor> {
    if (device === this.device) return this.detach();
    getBackend(device);
    const values = await this.data();
    return fromStorage(uploadStorage(values, this, device), this.shape, this.dtype, 'to');
  }

  /** A handle on the same data that is cut off from the autograd graph. */
  detach(): Tensor {
    this.assertAlive('detach');
    return fromStorage(this.storage.retain(), this.shape, this.dtype, 'detach');
  }

  /**
   * Replaces this leaf's data with `value`'s (same shape and dtype), keeping the handle:
   * how optimizers update parameters in place (like `p.data.copy_(value)` in PyTorch).
   * The data is shared, not copied; `value` stays valid and may be disposed.
   * `value` must live on this tensor's device, unless `allowDeviceChange` is set: then
   * the tensor moves to value's device (PyTorch's `p.data = value`), which is how
   * `Module.to` moves parameters while the handles optimizers hold stay the same.
   */
  assign(value: Tensor, options: { allowDeviceChange?: boolean } = {}): void {
    this.assertAlive('assign');
    value.assertAlive('assign');
    if (this.node) throw new Error('assign: only leaf tensors (not results of tracked ops) can be assigned');
    if (value.dtype !== this.dtype || value.shape.length !== this.shape.length || value.shape.some((d, i) => d !== this.shape[i])) {
      throw new Error(
        `assign: value ${shapeToString(value.shape)} ${value.dtype} does not match tensor ${shapeToString(this.shape)} ${this.dtype}`,
      );
    }
    if (value.storage.backend !== this.storage.backend && !options.allowDeviceChange) {
      throw new Error(`assign: value lives on "${value.device}" but the tensor on "${this.device}"`);
    }
    const previous = this.storage;
    this.storage = value.storage.retain();
    previous.release();
  }

}

/** @internal wraps a storage into a new (tracked) tensor handle */
export function fromStorage(storage: Storage, shape: Shape, dtype: DType, origin: string): Tensor {
  return new Tensor(storage, shape, dtype, origin);
}

// ---- the tape ---------------------------------------------------------------------

/** What the tape keeps of every input, however large: enough for rules that read only shapes. */
export interface InputMeta extends TensorMeta {
  readonly device: string;
}

/**
 * One recorded op. It keeps handles only on the inputs and output that the op's gradient
 * rule reads (SAVED_FOR_BACKWARD in ops.ts), plus the shape, dtype and device of every
 * input, so users may dispose intermediate tensors (e.g. with tidy) before backward while
 * the tape holds no more data than backward needs. Nodes are reference-counted by their
 * output handle and by the nodes that consume that output; the saved handles are released
 * when the count reaches zero or when backward has used them.
 */
export class Node {
  refs = 1;
  freed = false;
  readonly metas: readonly InputMeta[];
  /** Handles on the inputs the rule reads, at their input index; undefined elsewhere. */
  readonly savedInputs: readonly (Tensor | undefined)[];
  readonly savedOutput: Tensor | undefined;
  constructor(
    readonly op: OpName,
    /** The graph's edges (to reach producers and leaves); these handles keep no data alive. */
    readonly inputs: readonly Tensor[],
    readonly attrs: unknown,
    output: Tensor,
  ) {
    const saves: SavedForBackward | null = SAVED_FOR_BACKWARD[op];
    if (!saves) throw new Error(`${op}: has no gradient rule, so the tape cannot record it`);
    this.metas = inputs.map((t) => ({ shape: t.shape, dtype: t.dtype, device: t.device }));
    this.savedInputs = inputs.map((t, i) => (saves.inputs?.includes(i) ? t.shareStorage() : undefined));
    this.savedOutput = saves.output ? output.shareStorage() : undefined;
    for (const t of inputs) t.node?.retain();
  }
  retain(): void {
    this.refs++;
  }
  release(): void {
    if (--this.refs > 0) return;
    const wasFreed = this.freed;
    this.free();
    if (!wasFreed) for (const t of this.inputs) t.node?.release();
  }
  /** Releases the saved handles (after backward, or when nothing can reach this node). */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    for (const t of this.savedInputs) t?.dispose();
    this.savedOutput?.dispose();
  }
}
