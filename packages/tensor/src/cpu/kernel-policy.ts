// Which kernels the CPU backend runs: plain TypeScript, WASM SIMD on one thread, or
// WASM SIMD on a worker pool. 'auto' (the default) picks per call by size: tiny
// products stay in TypeScript (copying into WASM memory would cost more than it
// saves), mid-sized ones run on one thread, large ones on all cores. A user can
// force one mode with setCpuKernels(); cpuKernelsStatus() says what is available
// and, when something is not, why. The policy belongs to the CPU backend, so data
// flows one way: cpu/ (backend, policy) calls wasm/ (kernels, thread pool), and the
// WASM side never calls back.

import type { TensorInfo } from '../backend.js';
import type { TypedArray } from '../dtype.js';
import type { Expr } from '../expr.js';
import type { BatchedGemm, GemmBatch } from '../kernels-common/gemm-batch.js';
import type { OpAttrs, TensorMeta } from '../ops.js';
import { sizeOf } from '../shape.js';
import { ThreadPool, availableCores, threadsUnavailableReason } from '../wasm/thread-pool.js';
import { wasmAdamUpdate } from '../wasm/wasm-adam.js';
import { wasmElementwise } from '../wasm/wasm-elementwise.js';
import { wasmStridedCopies, type CopyPlan } from '../wasm/wasm-movement.js';
import { sumLayout, wasmRows, type RowOp } from '../wasm/wasm-rows.js';
import { wasmConv2d, wasmConv2dBackpropFilter, wasmConv2dBackpropInput } from '../wasm/wasm-conv.js';
import { wasmGemm } from '../wasm/wasm-gemm.js';
import { WasmKernels } from '../wasm/wasm-kernels.js';
import { tsBatchedGemm } from './matmul.js';

export type CpuKernelMode = 'ts' | 'wasm' | 'wasm-threads' | 'auto';

export interface CpuKernelOptions {
  /** Threads a threaded kernel uses, the calling thread included (default: the number of cores). */
  readonly threads?: number;
}

export interface CpuKernelsStatus {
  readonly mode: CpuKernelMode;
  /** Whether the WASM kernels loaded; `wasmReason` says why not. */
  readonly wasm: boolean;
  readonly wasmReason: string | null;
  /** Threads a threaded call uses (1 when threads are unavailable; then `threadsReason` says why). */
  readonly threads: number;
  readonly threadsReason: string | null;
  /** Pool workers started and waiting for jobs (they start on the first threaded call). */
  readonly workersReady: number;
  /** Bytes of WASM memory: kernel results live there while the WASM kernels are in use; it grows and is never returned. */
  readonly wasmMemoryBytes: number;
}

/** 2*m*n*k*items below which 'auto' stays in TypeScript: about a 24^3 product. */
const AUTO_WASM_MIN_FLOPS = 2 * 24 ** 3;
/** ... and above which it uses the pool: waking workers costs ~10-50 us, ~1 MFLOP at WASM speed. */
const AUTO_THREADS_MIN_FLOPS = 2 * 128 ** 3;

/** Elements below which 'auto' keeps elementwise ops in TypeScript (a WASM call has a fixed cost of a few us). */
const AUTO_ELEMENTWISE_MIN = 2048;
/** ... and above which it splits them over the pool. */
const AUTO_ELEMENTWISE_THREADS_MIN = 1 << 18;

/**
 * Elements above which 'auto' splits layerNorm, softmax and logSoftmax over the pool:
 * at ~1-4 ns per element (float64 math, exp) they are worth a wake-up sooner than
 * sums and copies, which one core already runs at memory speed.
 */
const AUTO_ROWS_THREADS_MIN = 1 << 16;

/** Elements below which 'auto' keeps data movement (permute, slice, pad, ...) in TypeScript. */
const AUTO_COPY_MIN = 4096;

const MODES: readonly CpuKernelMode[] = ['ts', 'wasm', 'wasm-threads', 'auto'];

let mode: CpuKernelMode = 'auto';
let threadsWanted: number | undefined;
/** undefined: not tried yet; null: failed (see wasmReason). */
let kernels: WasmKernels | null | undefined;
let wasmReason: string | null = null;
let pool: ThreadPool | null = null;

function loadKernels(): WasmKernels | null {
  if (kernels !== undefined) return kernels;
  const shared = typeof SharedArrayBuffer === 'function';
  try {
    kernels = WasmKernels.create(shared ? 'shared' : 'private');
  } catch (error) {
    kernels = null;
    wasmReason = `WASM kernels unavailable, using TypeScript kernels: ${(error as Error).message}`;
  }
  return kernels;
}

function threadCount(): number {
  return Math.max(1, Math.floor(threadsWanted ?? availableCores()));
}

function threadsReason(k: WasmKernels | null): string | null {
  if (!k) return wasmReason;
  if (pool?.failed) return pool.failed;
  if (threadCount() < 2) return threadsWanted === undefined ? 'only one core is available' : 'threads were set to 1';
  return threadsUnavailableReason(k);
}

/** The pool, started on first use; null when threads cannot be used. */
function threadPool(k: WasmKernels): ThreadPool | null {
  if (threadsReason(k) !== null) return null;
  const workers = threadCount() - 1;
  if (!pool || pool.workers !== workers) {
    pool?.close();
    pool = new ThreadPool(k, workers);
  }
  return pool.ready > 0 ? pool : null;
}

/**
 * Chooses the CPU kernels: 'ts' (portable TypeScript), 'wasm' (WASM SIMD, one
 * thread), 'wasm-threads' (WASM SIMD, split over a worker pool whenever a call can
 * be split) or 'auto' (by size, the default). Forcing a WASM mode throws when the
 * kernels are unavailable here, with the reason.
 */
export function setCpuKernels(next: CpuKernelMode, options: CpuKernelOptions = {}): void {
  if (!MODES.includes(next)) throw new Error(`setCpuKernels: unknown mode "${String(next)}", expected one of ${MODES.join(', ')}`);
  if (options.threads !== undefined && !(Number.isInteger(options.threads) && options.threads >= 1)) {
    throw new Error(`setCpuKernels: threads must be a positive integer, got ${options.threads}`);
  }
  if (next === 'wasm' || next === 'wasm-threads') {
    if (!loadKernels()) throw new Error(`setCpuKernels('${next}'): ${wasmReason}`);
  }
  const previousThreads = threadsWanted;
  if ('threads' in options) threadsWanted = options.threads;
  if (next === 'wasm-threads') {
    const reason = threadsReason(kernels!);
    if (reason !== null) {
      threadsWanted = previousThreads; // a refused call changes nothing
      throw new Error(`setCpuKernels('wasm-threads'): ${reason}`);
    }
    threadPool(kernels!);
  }
  mode = next;
}

export function getCpuKernels(): CpuKernelMode {
  return mode;
}

/** What the CPU backend can run here (loads the WASM kernels if that was not tried yet). */
export function cpuKernelsStatus(): CpuKernelsStatus {
  const k = loadKernels();
  const reason = threadsReason(k);
  return {
    mode,
    wasm: k !== null,
    wasmReason: k ? null : wasmReason,
    threads: reason === null ? threadCount() : 1,
    threadsReason: reason,
    workersReady: pool && !pool.failed ? pool.ready : 0,
    wasmMemoryBytes: k ? k.memory.buffer.byteLength : 0,
  };
}

/** Waits (asynchronously) until the pool's workers have started; resolves to how many did. */
export async function cpuThreadsReady(timeoutMs = 10_000): Promise<number> {
  const k = loadKernels();
  if (!k || threadsReason(k) !== null) return 0;
  threadPool(k);
  const deadline = Date.now() + timeoutMs;
  while (pool && pool.ready < pool.workers && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  return pool?.ready ?? 0;
}

/**
 * Runs a WASM kernel call on the pool when `threaded` (and threads are usable), else on this
 * thread. A failed worker retires the pool (threadPool() returns null from then on), and
 * results are only written when a job succeeds, so the call then runs again on one thread.
 */
function onThreads<T>(k: WasmKernels, threaded: boolean, run: (pool: ThreadPool | null) => T): T {
  const p = threaded ? threadPool(k) : null;
  try {
    return run(p);
  } catch (error) {
    if (!p?.failed) throw error;
    return run(null);
  }
}

/** The BatchedGemm the CPU backend calls: routes each call to TS or WASM by the current mode. */
export const dispatchGemm: BatchedGemm = (g: GemmBatch) => {
  if (mode === 'ts') return tsBatchedGemm(g);
  const flops = 2 * g.m * g.n * g.k * g.cOffsets.length;
  if (mode === 'auto' && flops < AUTO_WASM_MIN_FLOPS) return tsBatchedGemm(g);
  const k = loadKernels();
  if (!k) return tsBatchedGemm(g);
  const threaded = mode === 'wasm-threads' || (mode === 'auto' && flops >= AUTO_THREADS_MIN_FLOPS);
  const p = threaded ? threadPool(k) : null;
  let fits: boolean;
  try {
    fits = wasmGemm(k, p, g);
  } catch (error) {
    // A failed worker retires the pool (threadPool() returns null from now on); C is
    // only written after a job succeeds, so the call can simply run again on one thread.
    if (!p?.failed) throw error;
    fits = wasmGemm(k, null, g);
  }
  if (!fits) tsBatchedGemm(g);
};

/**
 * The elementwise kernel for float32 inputs and output in WASM, or null when the
 * current mode, size, dtypes or expression call for the TypeScript kernel instead.
 */
export function dispatchElementwise(expr: Expr, inputs: readonly TensorInfo<TypedArray>[], out: TensorMeta): TypedArray | null {
  if (mode === 'ts' || out.dtype !== 'float32' || inputs.some((t) => t.dtype !== 'float32')) return null;
  const count = sizeOf(out.shape);
  if (mode === 'auto' && count < AUTO_ELEMENTWISE_MIN) return null;
  const k = loadKernels();
  if (!k) return null;
  const threaded = mode === 'wasm-threads' || (mode === 'auto' && count >= AUTO_ELEMENTWISE_THREADS_MIN);
  return onThreads(k, threaded, (pool) => wasmElementwise(k, pool, expr, inputs as readonly TensorInfo<Float32Array>[], out));
}

/**
 * adamUpdate in WASM (one pass writing the parameter and both moments), or null when the
 * mode or size call for the TypeScript kernel; split over the pool like elementwise ops.
 */
export function dispatchAdamUpdate(inputs: readonly TensorInfo<TypedArray>[], attrs: OpAttrs['adamUpdate']): Float32Array[] | null {
  if (mode === 'ts') return null;
  const count = inputs[0]!.buffer.length;
  if (mode === 'auto' && count < AUTO_ELEMENTWISE_MIN) return null;
  const k = loadKernels();
  if (!k) return null;
  const threaded = mode === 'wasm-threads' || (mode === 'auto' && count >= AUTO_ELEMENTWISE_THREADS_MIN);
  return onThreads(k, threaded, (pool) => wasmAdamUpdate(k, pool, inputs as readonly TensorInfo<Float32Array>[], attrs));
}

/**
 * A float32 array for a kernel result, contents unspecified: a view into the WASM
 * heap while the WASM kernels are in use (so they read and write it in place), else
 * an ordinary array. The backend releases it with releaseCpuBuffer when the tensor is freed.
 */
export function allocateF32(count: number): Float32Array {
  if (mode !== 'ts') {
    const view = loadKernels()?.viewF32(count);
    if (view) return view;
  }
  return new Float32Array(count);
}

/** Returns a heap view to the WASM heap when its tensor is freed (no-op for other arrays). */
export function releaseCpuBuffer(buffer: TypedArray): void {
  if (kernels && buffer instanceof Float32Array) kernels.releaseView(buffer);
}

/**
 * A data-movement op (permute, expand, slice, pad, concat) on float32 in WASM, or null
 * when the mode, size, dtypes or plan call for the TypeScript kernel instead.
 */
export function dispatchCopies(plan: () => CopyPlan | null, inputs: readonly TensorInfo<TypedArray>[], out: TensorMeta): TypedArray | null {
  if (mode === 'ts' || out.dtype !== 'float32' || inputs.some((t) => t.dtype !== 'float32')) return null;
  const count = sizeOf(out.shape);
  if (mode === 'auto' && count < AUTO_COPY_MIN) return null;
  const k = loadKernels();
  const copies = k ? plan() : null;
  if (!k || !copies) return null;
  const threaded = mode === 'wasm-threads' || (mode === 'auto' && count >= AUTO_ELEMENTWISE_THREADS_MIN);
  return onThreads(k, threaded, (pool) => wasmStridedCopies(k, pool, copies, count));
}

/**
 * layerNorm / layerNormBackward (with its incoming gradient `grad`) / softmax /
 * logSoftmax over the last axis (`axis` = -1 or rank-1), or a sum over `axes`, of a
 * float32 tensor in WASM; null when the mode, size, dtype or axes call for the
 * TypeScript kernel instead.
 */
export function dispatchRows(op: RowOp, x: TensorInfo<TypedArray>, axes: readonly number[], param = 0, grad?: TensorInfo<TypedArray>): TypedArray | null {
  if (mode === 'ts' || x.dtype !== 'float32' || (grad && grad.dtype !== 'float32')) return null;
  const size = sizeOf(x.shape);
  if (mode === 'auto' && size < AUTO_ELEMENTWISE_MIN) return null;
  const rank = x.shape.length;
  const normalized = axes.map((a) => (a < 0 ? a + rank : a));
  let layout: [number, number, number] | null;
  if (op === 'sum') layout = sumLayout(x.shape, normalized);
  else layout = rank > 0 && normalized.length === 1 && normalized[0] === rank - 1 ? [size / x.shape[rank - 1]!, x.shape[rank - 1]!, 1] : null;
  const k = layout ? loadKernels() : null;
  if (!k || !layout) return null;
  const threaded = mode === 'wasm-threads' || (mode === 'auto' && size >= (op === 'sum' ? AUTO_ELEMENTWISE_THREADS_MIN : AUTO_ROWS_THREADS_MIN));
  return onThreads(k, threaded, (pool) => wasmRows(k, pool, op, x as TensorInfo<Float32Array>, layout!, param, grad as TensorInfo<Float32Array> | undefined));
}

type ConvOp = 'conv2d' | 'conv2dBackpropInput' | 'conv2dBackpropFilter';

/** conv2d or one of its backward kernels in WASM, or null when the mode, size or memory call for the TypeScript path. */
export function dispatchConv<K extends ConvOp>(op: K, inputs: readonly TensorInfo<TypedArray>[], attrs: OpAttrs[K], out: TensorMeta): TypedArray | null {
  if (mode === 'ts') return null;
  const size = sizeOf(out.shape) + inputs.reduce((total, t) => total + t.buffer.length, 0);
  if (mode === 'auto' && size < AUTO_ELEMENTWISE_MIN) return null;
  const k = loadKernels();
  if (!k || k.variant !== 'shared') return null;
  const threaded = mode === 'wasm-threads' || (mode === 'auto' && size >= AUTO_ELEMENTWISE_THREADS_MIN);
  const [a, b] = inputs as readonly TensorInfo<Float32Array>[];
  return onThreads(k, threaded, (pool) => {
    if (op === 'conv2d') return wasmConv2d(k, pool, a!, b!, attrs as OpAttrs['conv2d'], out);
    if (op === 'conv2dBackpropInput') return wasmConv2dBackpropInput(k, pool, a!, b!, attrs as OpAttrs['conv2dBackpropInput']);
    return wasmConv2dBackpropFilter(k, pool, a!, b!, attrs as OpAttrs['conv2dBackpropFilter']);
  });
}
