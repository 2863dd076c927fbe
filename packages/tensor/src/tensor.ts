// The Tensor handle: shape, dtype and a reference to a device storage. Handles are
// cheap; data lives in the storage and is freed when the last handle (or saved
// tensor) releases it. Methods are thin aliases of the functions in ops-*.ts.

import type { DType, TypedArray } from './dtype.js';
import { countTensor, getBackend, Node, Storage, track, uploadStorage } from './engine.js';
import { shapeToString, sizeOf, type Shape } from './shape.js';
import { formatTensor } from './format.js';
import * as M from './ops-math.js';
import * as S from './ops-shape.js';
import { backward } from './autograd.js';

type Scalar = number;
type Operand = Tensor | Scalar;

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
  private disposed = false;
  private static nextId = 0;
  /** A unique id, handy for debugging and maps. */
  readonly id = Tensor.nextId++;

  /** @internal use the creation functions (tensor, zeros, ...) instead */
  constructor(storage: Storage, shape: Shape, dtype: DType, trackInScope = true) {
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    countTensor(1);
    if (trackInScope) track(this);
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
    countTensor(-1);
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
    return new Tensor(this.storage.retain(), this.shape, this.dtype, false);
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
    return fromStorage(uploadStorage(values, this, device), this.shape, this.dtype);
  }

  async toAsync(device: string): Promise<Tensor> {
    if (device === this.device) return this.detach();
    getBackend(device);
    const values = await this.data();
    return fromStorage(uploadStorage(values, this, device), this.shape, this.dtype);
  }

  /** A handle on the same data that is cut off from the autograd graph. */
  detach(): Tensor {
    this.assertAlive('detach');
    return fromStorage(this.storage.retain(), this.shape, this.dtype);
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

  /** Computes gradients of this tensor with respect to every leaf that requires grad. */
  backward(grad?: Tensor, options: { retainGraph?: boolean } = {}): void {
    backward(this, grad, options);
  }

  // ---- op aliases (see ops-math.ts / ops-shape.ts for documentation) ----------------

  add(other: Operand): Tensor { return M.add(this, other); }
  sub(other: Operand): Tensor { return M.sub(this, other); }
  mul(other: Operand): Tensor { return M.mul(this, other); }
  div(other: Operand): Tensor { return M.div(this, other); }
  pow(other: Operand): Tensor { return M.pow(this, other); }
  maximum(other: Operand): Tensor { return M.maximum(this, other); }
  minimum(other: Operand): Tensor { return M.minimum(this, other); }
  equal(other: Operand): Tensor { return M.equal(this, other); }
  notEqual(other: Operand): Tensor { return M.notEqual(this, other); }
  less(other: Operand): Tensor { return M.less(this, other); }
  lessEqual(other: Operand): Tensor { return M.lessEqual(this, other); }
  greater(other: Operand): Tensor { return M.greater(this, other); }
  greaterEqual(other: Operand): Tensor { return M.greaterEqual(this, other); }
  neg(): Tensor { return M.neg(this); }
  exp(): Tensor { return M.exp(this); }
  log(): Tensor { return M.log(this); }
  sqrt(): Tensor { return M.sqrt(this); }
  rsqrt(): Tensor { return M.rsqrt(this); }
  abs(): Tensor { return M.abs(this); }
  square(): Tensor { return M.square(this); }
  sin(): Tensor { return M.sin(this); }
  cos(): Tensor { return M.cos(this); }
  tanh(): Tensor { return M.tanh(this); }
  sigmoid(): Tensor { return M.sigmoid(this); }
  relu(): Tensor { return M.relu(this); }
  gelu(): Tensor { return M.gelu(this); }
  selu(): Tensor { return M.selu(this); }
  clamp(min?: number, max?: number): Tensor { return M.clamp(this, min, max); }
  sum(axes?: number | number[], keepdim = false): Tensor { return M.sum(this, axes, keepdim); }
  mean(axes?: number | number[], keepdim = false): Tensor { return M.mean(this, axes, keepdim); }
  max(axes?: number | number[], keepdim = false): Tensor { return M.max(this, axes, keepdim); }
  min(axes?: number | number[], keepdim = false): Tensor { return M.min(this, axes, keepdim); }
  argmax(axis?: number, keepdim = false): Tensor { return M.argmax(this, axis, keepdim); }
  argmin(axis?: number, keepdim = false): Tensor { return M.argmin(this, axis, keepdim); }
  matmul(other: Tensor): Tensor { return M.matmul(this, other); }
  softmax(axis = -1): Tensor { return M.softmax(this, axis); }
  logSoftmax(axis = -1): Tensor { return M.logSoftmax(this, axis); }
  astype(dtype: DType): Tensor { return M.cast(this, dtype); }
  reshape(shape: readonly number[]): Tensor { return S.reshape(this, shape); }
  flatten(startAxis = 0, endAxis = -1): Tensor { return S.flatten(this, startAxis, endAxis); }
  permute(perm: readonly number[]): Tensor { return S.permute(this, perm); }
  transpose(axis0 = -2, axis1 = -1): Tensor { return S.transpose(this, axis0, axis1); }
  expand(shape: readonly number[]): Tensor { return S.expand(this, shape); }
  squeeze(axes?: number | number[]): Tensor { return S.squeeze(this, axes); }
  unsqueeze(axis: number): Tensor { return S.unsqueeze(this, axis); }
  slice(ranges: readonly (readonly [number, number] | number | null)[]): Tensor { return S.slice(this, ranges); }
}

/** @internal wraps a storage into a new (tracked) tensor handle */
export function fromStorage(storage: Storage, shape: Shape, dtype: DType): Tensor {
  return new Tensor(storage, shape, dtype);
}
