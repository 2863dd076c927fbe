// The WebGPU backend: the same Backend interface as the CPU backend, with every op
// of the op table running as a WGSL kernel (kernels/). It owns one GPUDevice, a
// buffer pool, a pipeline cache and a command recorder; kernels only allocate
// outputs and record dispatches through the KernelContext it hands them.
//
// Failure is loud: a lost device marks the backend lost (and emits "devicelost"),
// after which every use of it or of its tensors throws; uncaptured GPU errors and
// out-of-range gather/scatter indices (flagged by the kernels) emit "gpuerror" and
// make the next read reject.
/// <reference types="@webgpu/types" />

import type { Backend, BackendMemory, KernelOutput, Kernels, KernelOp } from '../backend.js';
import { allocTyped, type DType, type TypedArray } from '../dtype.js';
import { BINARY, FUSED, UNARY, type BinaryOp, type FusedOp, type OpAttrs, type TensorMeta, type UnaryOp } from '../ops.js';
import { shapeToString, sizeOf } from '../shape.js';
import { BufferPool, type PooledBuffer } from './buffer-pool.js';
import { CommandRecorder } from './command-recorder.js';
import { BUFFER_USAGE, MAP_MODE_READ } from './gpu-constants.js';
import { PipelineCache } from './pipeline-cache.js';
import { runAdamUpdate } from './kernels/adam-update.js';
import { attentionFits, runAttention } from './kernels/attention.js';
import { runAvgPool2d, runAvgPool2dBackprop } from './kernels/avg-pool2d.js';
import { runCast } from './kernels/cast.js';
import { runConv2d, runConv2dBackpropFilter, runConv2dBackpropInput } from './kernels/conv2d.js';
import { runElementwise } from './kernels/elementwise.js';
import { runFill } from './kernels/fill.js';
import { runGather, runScatterAdd, STATUS_GATHER_INDEX, STATUS_SCATTER_INDEX } from './kernels/gather.js';
import { gpuBuffer, type GpuInfo, type GpuKernel, type GpuTensorBuffer, type Grid, type KernelContext, type KernelProfile, type KernelSpec, type MatmulTile, type Params } from './kernels/kernel.js';
import { runLayerNorm } from './kernels/layer-norm.js';
import { runMatmul } from './kernels/matmul.js';
import { runRandom } from './kernels/random.js';
import { runArgReduce, runReduce } from './kernels/reduce.js';
import { runSoftmax } from './kernels/softmax.js';
import { runConcat, runExpand, runPad, runPermute, runSlice } from './kernels/strided-copy.js';
import { WORKGROUP_SIZE } from './kernels/wgsl.js';

export type { GpuTensorBuffer, KernelProfile } from './kernels/kernel.js';

export interface WebGPUBackendOptions {
  /** Device name in the registry and in `tensor.device` (default "webgpu"). */
  name?: string;
  /**
   * GPU memory kept in the pool for reuse at most. The default, 'peak', keeps freed
   * buffers while the bytes held (live tensors, freed buffers waiting for the submit after
   * which they may be reused, and the pool) stay within the most bytes ever held by the
   * first two at once: a training loop then allocates nothing after its first step, and
   * the pool never holds more than the program itself once needed. A number caps the
   * pool at that many bytes instead.
   */
  maxPooledBytes?: number | 'peak';
  /** A line describing the adapter, shown by `describe()`. */
  adapterDescription?: string;
  /**
   * The kernel variants to run (default 'gpu'; initWebGPU picks 'software' on adapters
   * that run on the CPU, such as llvmpipe). Set it to force either set on any adapter:
   * the tests run the 'gpu' kernels on lavapipe this way.
   */
  kernels?: KernelProfile;
  /**
   * Whether scaledDotProductAttention runs the fused attention kernel here for short
   * sequences (default: on with the 'gpu' kernels, off with the 'software' ones, where
   * the composite's register-blocked matmuls measured faster on llvmpipe).
   */
  fusedAttention?: boolean;
}

/** Detailed counters beyond `memory()`. */
export interface WebGPUStats {
  liveBuffers: number;
  liveBytes: number;
  pooledBuffers: number;
  pooledBytes: number;
  /** Buffers freed by tensors while commands using them are still unsubmitted. */
  retiringBuffers: number;
  pipelines: number;
  /** Bind groups cached for reuse (a training step's come back every step). */
  bindGroups: number;
  compileMs: number;
  dispatches: number;
  submits: number;
  /** Host-to-GPU writes made by upload() (tensor(), scalars of ops given numbers, to()) since the backend was made. */
  uploads: number;
  uploadBytes: number;
}

const STORAGE_USAGE = BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_SRC | BUFFER_USAGE.COPY_DST;
const STAGING_USAGE = BUFFER_USAGE.MAP_READ | BUFFER_USAGE.COPY_DST;
const STATUS_BYTES = 4;
/** Bytes of freed buffers waiting for a submit that make the backend submit early. */
const RETIRING_SUBMIT_BYTES = 512 * 2 ** 20;
/** Smallest binding: one vec4 (kernels that read vec4 arrays need that much even for empty tensors). */
const MIN_BINDING_BYTES = 16;

interface ReadBatch {
  /** Resolves after the batch's copies are submitted. */
  readonly submitted: Promise<void>;
  /** Resolves to the kernels' error flags raised before the batch. */
  readonly status: Promise<number>;
}

function describeStatus(flags: number): string {
  const ops = [
    ...(flags & STATUS_GATHER_INDEX ? ['gather'] : []),
    ...(flags & STATUS_SCATTER_INDEX ? ['scatterAdd'] : []),
  ];
  return `${ops.join(' and ')}: an index was out of range for its axis (detected on the GPU; results computed from it are invalid)`;
}

export class WebGPUBackend extends EventTarget implements Backend<GpuTensorBuffer> {
  readonly name: string;
  private readonly device: GPUDevice;
  private readonly pool: BufferPool;
  private readonly stagingPool: BufferPool;
  private readonly pipelines: PipelineCache;
  private readonly recorder: CommandRecorder;
  private readonly statusBuffer: GpuTensorBuffer;
  private readonly maxBinding: number;
  private readonly maxBufferSize: number;
  private readonly maxGroups: number;
  private readonly adapterDescription: string;
  /** The kernel variants this backend runs (WebGPUBackendOptions.kernels). */
  readonly kernels: KernelProfile;
  /** See WebGPUBackendOptions.fusedAttention; may be changed at any time (it only steers scaledDotProductAttention). */
  fusedAttention: boolean;
  /**
   * The 'gpu' kernels' matmul tile, for benchmarks and experiments: 64 x 64 or 128 x 128
   * of C per workgroup, or 'auto' (128 for products large enough to keep a GPU's cores
   * busy with them). May be changed at any time; the 'software' kernels ignore it.
   */
  matmulTile: MatmulTile = 'auto';
  private liveBuffers = 0;
  private liveBytes = 0;
  /** The most bytes held at once: live, or freed but waiting for a submit (not reusable yet). */
  private peakHeldBytes = 0;
  private retiring = 0;
  private retiringBytes = 0;
  // Counted because each upload is a queue write the kernels wait on: per-step uploads
  // (e.g. optimizer hyper-parameters) show up here before they show up in a profile.
  private uploads = 0;
  private uploadBytes = 0;
  private lostReason: string | null = null;
  private readonly errors: string[] = [];
  private readBatch: ReadBatch | null = null;
  private readonly context: KernelContext;

  /**
   * Wraps a GPUDevice (typed loosely so this package's declarations need no WebGPU
   * types). Most code calls `initWebGPU()` instead, which also finds the adapter.
   */
  constructor(device: object, options: WebGPUBackendOptions = {}) {
    super();
    this.device = device as GPUDevice;
    this.name = options.name ?? 'webgpu';
    this.adapterDescription = options.adapterDescription ?? 'unknown adapter';
    this.kernels = options.kernels ?? 'gpu';
    if (this.kernels !== 'gpu' && this.kernels !== 'software') {
      throw new Error(`WebGPUBackend: kernels must be 'gpu' or 'software', got ${JSON.stringify(this.kernels)}`);
    }
    this.fusedAttention = options.fusedAttention ?? this.kernels === 'gpu';
    const limits = this.device.limits;
    this.maxBinding = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
    this.maxBufferSize = limits.maxBufferSize;
    this.maxGroups = limits.maxComputeWorkgroupsPerDimension;
    const maxPooled = options.maxPooledBytes ?? 'peak';
    if (maxPooled !== 'peak' && !(typeof maxPooled === 'number' && maxPooled >= 0)) {
      throw new Error(`WebGPUBackend: maxPooledBytes must be 'peak' or a number of bytes >= 0, got ${JSON.stringify(maxPooled)}`);
    }
    // With 'peak', a large model's step (whose optimizer alone replaces every parameter and
    // moment buffer) reuses the previous step's buffers instead of creating, and having the
    // driver zero, gigabytes of new ones.
    const poolLimit = maxPooled === 'peak' ? () => this.peakHeldBytes - this.liveBytes - this.retiringBytes : maxPooled;
    this.recorder = new CommandRecorder(this.device);
    this.pool = new BufferPool(this.device, STORAGE_USAGE, 'gpt tensor', poolLimit, (buffer) => this.recorder.bindGroups.evict(buffer));
    this.stagingPool = new BufferPool(this.device, STAGING_USAGE, 'gpt readback', 64 * 2 ** 20);
    this.pipelines = new PipelineCache(this.device, (m) => this.reportError(m));
    const status = this.device.createBuffer({ label: 'gpt kernel status', size: 16, usage: STORAGE_USAGE });
    this.statusBuffer = { buffer: status, bytes: STATUS_BYTES, capacity: 16 };
    this.device.addEventListener('uncapturederror', (event) => {
      this.reportError((event as GPUUncapturedErrorEvent).error.message);
    });
    const backend = this; // for the getter below: matmulTile is read at each call, so changes apply at once
    this.context = {
      allocate: (op, meta) => this.allocateFor(op, meta),
      release: (buffer) => this.free(buffer),
      dispatch: (op, spec, params, buffers, grid) => this.dispatchKernel(op, spec, params, buffers, grid),
      grid: (op, items, perGroup = WORKGROUP_SIZE) => this.gridFor(op, items, perGroup),
      maxWorkgroupsPerDimension: this.maxGroups,
      maxWorkgroupStorageBytes: limits.maxComputeWorkgroupStorageSize,
      profile: this.kernels,
      get matmulTile() {
        return backend.matmulTile;
      },
      status: this.statusBuffer,
    };
    void this.device.lost.then((info) => {
      this.lostReason ??= `${info.reason}${info.message ? `: ${info.message}` : ''}`;
      this.dispatchEvent(new CustomEvent('devicelost', { detail: { reason: this.lostReason } }));
    });
  }

  /** Whether the device was lost (or destroyed); the backend and its tensors are then unusable. */
  get isLost(): boolean {
    return this.lostReason !== null;
  }

  /** The adapter this backend runs on and the kernels it chose, e.g. "mesa / llvmpipe (software kernels)". */
  describe(): string {
    return `${this.adapterDescription} (${this.kernels} kernels)`;
  }

  /** The adapter limits that decide which tensors fit (bytes / workgroups). */
  get limits(): { maxStorageBufferBindingSize: number; maxBufferSize: number; maxComputeWorkgroupsPerDimension: number } {
    return { maxStorageBufferBindingSize: this.maxBinding, maxBufferSize: this.maxBufferSize, maxComputeWorkgroupsPerDimension: this.maxGroups };
  }

  private reportError(message: string): void {
    this.errors.push(message);
    this.dispatchEvent(new CustomEvent('gpuerror', { detail: { message } }));
  }

  private assertUsable(op: string): void {
    if (this.lostReason !== null) {
      throw new Error(
        `${op}: the WebGPU device "${this.name}" was lost (${this.lostReason}); its tensors are gone. Create a new backend with initWebGPU() and recompute them.`,
      );
    }
  }

  /** Throws (once) the GPU errors reported since the last check. */
  private throwReportedErrors(op: string): void {
    if (this.errors.length === 0) return;
    const messages = this.errors.splice(0);
    throw new Error(`${op}: the WebGPU device reported ${messages.length === 1 ? 'an error' : `${messages.length} errors`}: ${messages.join('; ')}`);
  }

  // ---- buffers ------------------------------------------------------------------

  private allocateBytes(op: string, bytes: number, what: () => string): GpuTensorBuffer {
    this.assertUsable(op);
    if (bytes > this.maxBinding) {
      throw new Error(
        `${op}: ${what()} needs ${bytes} bytes on the GPU, more than this adapter's maxStorageBufferBindingSize (${this.maxBinding} bytes)`,
      );
    }
    const bound = Math.max(bytes, MIN_BINDING_BYTES);
    const entry = this.pool.acquire(bound);
    this.liveBuffers++;
    this.liveBytes += entry.capacity;
    this.peakHeldBytes = Math.max(this.peakHeldBytes, this.liveBytes + this.retiringBytes);
    return { buffer: entry.buffer, capacity: entry.capacity, bytes: bound };
  }

  private allocateFor(op: string, meta: TensorMeta): GpuTensorBuffer {
    return this.allocateBytes(op, sizeOf(meta.shape) * 4, () => `a ${meta.dtype} tensor of shape ${shapeToString(meta.shape)}`);
  }

  upload(values: TypedArray, dtype: DType): GpuTensorBuffer {
    const result = this.allocateBytes('upload', values.length * 4, () => `a ${dtype} tensor of ${values.length} elements`);
    this.uploads++;
    this.uploadBytes += values.length * 4;
    if (values.length > 0) {
      // bool is one byte per element on the host and one u32 on the GPU.
      const words = dtype === 'bool' ? Uint32Array.from(values) : values;
      this.device.queue.writeBuffer(gpuBuffer(result), 0, words.buffer, words.byteOffset, words.byteLength);
    }
    return result;
  }

  free(buffer: GpuTensorBuffer): void {
    this.liveBuffers--;
    this.liveBytes -= buffer.capacity;
    if (this.lostReason !== null) return;
    // Back to the pool once the commands recorded so far (which may use it) are submitted.
    this.retiring++;
    this.retiringBytes += buffer.capacity;
    this.recorder.afterSubmit(() => {
      this.retiring--;
      this.retiringBytes -= buffer.capacity;
      this.pool.release({ buffer: gpuBuffer(buffer), capacity: buffer.capacity });
    });
    // A whole training step is recorded before one submit; a large model's freed
    // intermediates would all wait for it, so past this much an early submit recycles them.
    if (this.retiringBytes > RETIRING_SUBMIT_BYTES) this.recorder.flush();
  }

  /**
   * One dispatch per pass instead of two batched matmuls, a scale and a softmax, when an
   * item's scores fit in workgroup memory and `fusedAttention` is on.
   */
  fusesAttention(tq: number, tk: number): boolean {
    return this.fusedAttention && attentionFits(tq, tk, this.context.maxWorkgroupStorageBytes);
  }

  memory(): BackendMemory {
    return { bytes: this.liveBytes, pooledBuffers: this.pool.stats().pooledBuffers };
  }

  stats(): WebGPUStats {
    const pool = this.pool.stats();
    return {
      liveBuffers: this.liveBuffers,
      liveBytes: this.liveBytes,
      pooledBuffers: pool.pooledBuffers,
      pooledBytes: pool.pooledBytes,
      retiringBuffers: this.retiring,
      pipelines: this.pipelines.size,
      bindGroups: this.recorder.bindGroups.size,
      compileMs: this.pipelines.compileMs,
      dispatches: this.recorder.dispatches,
      submits: this.recorder.submits,
      uploads: this.uploads,
      uploadBytes: this.uploadBytes,
    };
  }

  /** Destroys pooled buffers, giving their memory back to the driver. */
  trimPool(): void {
    this.pool.trim();
    this.stagingPool.trim();
  }

  // ---- reading back ------------------------------------------------------------------

  async read(buffer: GpuTensorBuffer, dtype: DType, size: number): Promise<TypedArray> {
    this.assertUsable('data');
    if (size === 0) {
      this.throwReportedErrors('data');
      return allocTyped(dtype, 0);
    }
    const bytes = size * 4;
    const staging = this.stagingPool.acquire(bytes);
    // The copy is recorded now, while the tensor is certainly alive; the submit is shared
    // by every read of this tick.
    this.recorder.copy(gpuBuffer(buffer), staging.buffer, bytes);
    const batch = (this.readBatch ??= this.startReadBatch());
    let words: ArrayBuffer;
    try {
      await batch.submitted;
      await staging.buffer.mapAsync(MAP_MODE_READ, 0, bytes);
      words = staging.buffer.getMappedRange(0, bytes).slice(0);
      staging.buffer.unmap();
      this.stagingPool.release(staging);
    } catch (error) {
      this.assertUsable('data');
      throw error;
    }
    const flags = await batch.status;
    if (flags !== 0) throw new Error(describeStatus(flags));
    this.throwReportedErrors('data');
    if (dtype === 'float32') return new Float32Array(words);
    if (dtype === 'int32') return new Int32Array(words);
    return Uint8Array.from(new Uint32Array(words));
  }

  private startReadBatch(): ReadBatch {
    let resolveSubmitted!: () => void;
    const submitted = new Promise<void>((resolve) => (resolveSubmitted = resolve));
    const statusStaging = this.stagingPool.acquire(STATUS_BYTES);
    const status = submitted.then(() => this.readStatus(statusStaging));
    // Reads that fail earlier (a lost device) never await this; keep its rejection handled.
    status.catch(() => {});
    // Reads requested in the same tick share one submit; the error flags ride along.
    queueMicrotask(() => {
      this.readBatch = null;
      if (this.lostReason === null) {
        this.recorder.copy(gpuBuffer(this.statusBuffer), statusStaging.buffer, STATUS_BYTES);
        this.recorder.clear(gpuBuffer(this.statusBuffer), STATUS_BYTES);
        this.recorder.flush();
      }
      resolveSubmitted();
    });
    return { submitted, status };
  }

  private async readStatus(staging: PooledBuffer): Promise<number> {
    this.assertUsable('data');
    await staging.buffer.mapAsync(MAP_MODE_READ, 0, STATUS_BYTES);
    const flags = new Uint32Array(staging.buffer.getMappedRange(0, STATUS_BYTES))[0]!;
    staging.buffer.unmap();
    this.stagingPool.release(staging);
    return flags;
  }

  /** Submits recorded work and waits until the GPU has finished it. */
  async sync(): Promise<void> {
    this.assertUsable('sync');
    await this.recorder.finish();
    this.assertUsable('sync');
    this.throwReportedErrors('sync');
  }

  /** Destroys the device; the backend and its tensors become unusable. */
  destroy(): void {
    this.lostReason ??= 'destroyed by destroy()';
    this.device.destroy();
  }

  // ---- running ops ---------------------------------------------------------------

  private dispatchKernel(op: string, spec: KernelSpec, params: Params, buffers: readonly GpuTensorBuffer[], grid: Grid): void {
    const entry = this.pipelines.get(spec);
    this.recorder.dispatch(entry, spec.key, params.words, buffers.map((b) => ({ buffer: gpuBuffer(b), size: b.bytes })), grid, op);
  }

  private gridFor(op: string, items: number, perGroup: number): Grid {
    const groups = Math.ceil(items / perGroup);
    const x = Math.min(groups, this.maxGroups);
    const y = Math.ceil(groups / x);
    if (y > this.maxGroups) {
      throw new Error(
        `${op}: ${items} work items need ${groups} workgroups, more than this adapter's maxComputeWorkgroupsPerDimension squared (${this.maxGroups}^2)`,
      );
    }
    return [x, y, 1];
  }

  run<K extends KernelOp>(op: K, inputs: readonly GpuInfo[], attrs: OpAttrs[K], out: TensorMeta): KernelOutput<K, GpuTensorBuffer> {
    this.assertUsable(op);
    const kernel = this.opKernels[op] as unknown as (i: readonly GpuInfo[], a: OpAttrs[K], o: TensorMeta) => KernelOutput<K, GpuTensorBuffer>;
    return kernel(inputs, attrs, out);
  }

  private bind<A>(kernel: GpuKernel<A>): (inputs: readonly GpuInfo[], attrs: A, out: TensorMeta) => GpuTensorBuffer {
    return (inputs, attrs, out) => kernel(this.context, inputs, attrs, out);
  }

  private readonly opKernels: Kernels<GpuTensorBuffer> = {
    ...(Object.fromEntries(
      Object.keys(UNARY).map((name) => [
        name,
        this.bind((ctx, inputs, _a, out) => runElementwise(ctx, name as UnaryOp, inputs, inputs[0]!.dtype, out)),
      ]),
    ) as { [K in UnaryOp]: Kernels<GpuTensorBuffer>[K] }),
    ...(Object.fromEntries(
      Object.keys(BINARY).map((name) => [
        name,
        this.bind((ctx, inputs, _a, out) => runElementwise(ctx, name as BinaryOp, inputs, inputs[0]!.dtype, out)),
      ]),
    ) as { [K in BinaryOp]: Kernels<GpuTensorBuffer>[K] }),
    ...(Object.fromEntries(
      Object.keys(FUSED).map((name) => [name, this.bind((ctx, inputs, _a, out) => runElementwise(ctx, name as FusedOp, inputs, 'float32', out))]),
    ) as { [K in FusedOp]: Kernels<GpuTensorBuffer>[K] }),
    where: this.bind((ctx, inputs, _a, out) => runElementwise(ctx, 'where', inputs, out.dtype, out)),
    cast: this.bind((ctx, [x], _a, out) => runCast(ctx, x!, out)),
    sum: this.bind((ctx, [x], attrs: OpAttrs['sum'], out) => runReduce(ctx, 'sum', x!, attrs, out)),
    max: this.bind((ctx, [x], attrs: OpAttrs['max'], out) => runReduce(ctx, 'max', x!, attrs, out)),
    min: this.bind((ctx, [x], attrs: OpAttrs['min'], out) => runReduce(ctx, 'min', x!, attrs, out)),
    argmax: this.bind((ctx, [x], attrs: OpAttrs['argmax'], out) => runArgReduce(ctx, 'argmax', x!, attrs, out)),
    argmin: this.bind((ctx, [x], attrs: OpAttrs['argmin'], out) => runArgReduce(ctx, 'argmin', x!, attrs, out)),
    // One dispatch: the bias (attrs.bias, a third input [N]) is added as C is stored.
    matmul: this.bind(runMatmul),
    permute: this.bind((ctx, [x], attrs: OpAttrs['permute'], out) => runPermute(ctx, x!, attrs, out)),
    expand: this.bind((ctx, [x], _a, out) => runExpand(ctx, x!, out)),
    slice: this.bind((ctx, [x], attrs: OpAttrs['slice'], out) => runSlice(ctx, x!, attrs, out)),
    pad: this.bind((ctx, [x], attrs: OpAttrs['pad'], out) => runPad(ctx, x!, attrs, out)),
    concat: this.bind(runConcat),
    gather: this.bind(runGather),
    scatterAdd: this.bind(runScatterAdd),
    softmax: this.bind((ctx, [x], { axis }: OpAttrs['softmax'], out) => runSoftmax(ctx, false, x!, axis, out)),
    logSoftmax: this.bind((ctx, [x], { axis }: OpAttrs['logSoftmax'], out) => runSoftmax(ctx, true, x!, axis, out)),
    attention: this.bind((ctx, inputs, { scale }: OpAttrs['attention'], out) => runAttention(ctx, inputs, scale, 'forward', out)),
    attentionBackward: this.bind((ctx, inputs, { scale, wrt }: OpAttrs['attentionBackward'], out) => runAttention(ctx, inputs, scale, wrt, out)),
    layerNorm: this.bind((ctx, inputs, { eps }: OpAttrs['layerNorm'], out) => runLayerNorm(ctx, inputs, eps, out)),
    layerNormBackward: this.bind((ctx, inputs, { eps }: OpAttrs['layerNormBackward'], out) => runLayerNorm(ctx, inputs, eps, out)),
    conv2d: this.bind(runConv2d),
    conv2dBackpropInput: this.bind(runConv2dBackpropInput),
    conv2dBackpropFilter: this.bind(runConv2dBackpropFilter),
    avgPool2d: this.bind((ctx, [x], attrs: OpAttrs['avgPool2d'], out) => runAvgPool2d(ctx, x!, attrs, out)),
    avgPool2dBackprop: this.bind((ctx, [dy], attrs: OpAttrs['avgPool2dBackprop'], out) => runAvgPool2dBackprop(ctx, dy!, attrs, out)),
    fill: this.bind((ctx, _i, attrs: OpAttrs['fill'], out) => runFill(ctx, attrs, out)),
    adamUpdate: (inputs, attrs, out) => runAdamUpdate(this.context, inputs, attrs, out),
    randomUniform: this.bind((ctx, _i, attrs: OpAttrs['randomUniform'], out) => runRandom(ctx, 'uniform', attrs, out)),
    randomNormal: this.bind((ctx, _i, attrs: OpAttrs['randomNormal'], out) => runRandom(ctx, 'normal', attrs, out)),
  };
}
