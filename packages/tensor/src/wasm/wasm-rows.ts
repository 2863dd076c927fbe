// layerNorm (and its backward pass), softmax and logSoftmax over the last axis, and sums over one
// contiguous run of axes, in WASM (assembly/rows.ts, float64 accumulation like the
// TypeScript kernels) with results in the kernels' heap. Other axes (softmax over a
// leading axis, sums over separated axes) return null: the TS kernels take them.

import type { TensorInfo } from '../backend.js';
import { sizeOf } from '../shape.js';
import type { ThreadPool } from './thread-pool.js';
import { CallBlocks, JOB_ADDRESS, type WasmKernels } from './wasm-kernels.js';

type Info = TensorInfo<Float32Array>;
export type RowOp = 'layerNorm' | 'layerNormBackward' | 'softmax' | 'logSoftmax' | 'sum';

const TASKS_PER_THREAD = 4;
/** Elements below which a task is not worth a split (claiming one costs an atomic, waking a thread far more). */
const MIN_TASK_ELEMENTS = 4096;
const f32Bits = new Int32Array(1);
const f32View = new Float32Array(f32Bits.buffer);

/** [rows, row length, inner] of a sum over `axes` (sorted, non-negative), or null unless they are one contiguous run. */
export function sumLayout(shape: readonly number[], axes: readonly number[]): [number, number, number] | null {
  const sorted = [...axes].sort((a, b) => a - b);
  if (sorted.length === 0 || sorted.some((a, i) => i > 0 && a !== sorted[i - 1]! + 1)) return null;
  const lo = sorted[0]!;
  const hi = sorted.at(-1)! + 1;
  return [sizeOf(shape.slice(0, lo)), sizeOf(shape.slice(lo, hi)), sizeOf(shape.slice(hi))];
}

/**
 * Runs `op` on x: rows of its last axis (layerNorm with `param` = eps, its backward
 * with the incoming gradient `grad`, softmax, logSoftmax), or for 'sum' the
 * [outer, reduced, inner] layout from sumLayout. Null when the layout is empty or memory is full.
 */
export function wasmRows(kernels: WasmKernels, pool: ThreadPool | null, op: RowOp, x: Info, layout: [number, number, number], param = 0, grad?: Info): Float32Array | null {
  if (op === 'layerNormBackward' && grad?.buffer.length !== x.buffer.length) throw new Error('wasmRows: layerNormBackward needs a gradient the size of x');
  const [rows, length, inner] = layout;
  const count = op === 'sum' ? rows * inner : rows * length;
  if (rows === 0 || length === 0 || count === 0) return null;
  const L = kernels.layout;
  const threads = pool ? pool.workers + 1 : 1;
  const wanted = Math.max(1, Math.min(threads * TASKS_PER_THREAD, Math.floor(x.buffer.length / MIN_TASK_ELEMENTS)));
  const perTask = Math.ceil(rows / Math.min(rows, wanted));
  const tasks = Math.ceil(rows / perTask);
  const blocks = new CallBlocks(kernels);
  const view = kernels.viewF32(count);
  try {
    const srcAt = kernels.addressOf(x.buffer) ?? blocks.take(x.buffer.length * 4);
    const dstAt = view ? view.byteOffset : blocks.take(count * 4);
    const gradAt = grad ? (kernels.addressOf(grad.buffer) ?? blocks.take(grad.buffer.length * 4)) : 0;
    // Per thread: a sum accumulates `inner` float64 columns, softmax keeps a row of
    // float64 exps (+2: a row's last pair is stored whole).
    const scratchWords = op === 'sum' ? (inner > 1 ? inner : 0) : op === 'softmax' || op === 'logSoftmax' ? length + 2 : 0;
    const scratchBytes = Math.ceil((scratchWords * 8) / 64) * 64;
    const scratchAt = scratchBytes > 0 ? blocks.take(threads * scratchBytes) : 0;
    if (srcAt === null || dstAt === null || gradAt === null || scratchAt === null) {
      if (view) kernels.releaseView(view);
      return null;
    }
    const f32 = kernels.heapF32();
    const i32 = kernels.beginJob(L.KIND_ROWS, tasks, threads, scratchAt, scratchBytes);
    if (kernels.addressOf(x.buffer) === null) f32.set(x.buffer, srcAt / 4);
    if (grad && kernels.addressOf(grad.buffer) === null) f32.set(grad.buffer, gradAt / 4);
    f32View[0] = param;
    const job = JOB_ADDRESS / 4;
    const ops = { layerNorm: L.ROW_LAYER_NORM, layerNormBackward: L.ROW_LAYER_NORM_BACKWARD, softmax: L.ROW_SOFTMAX, logSoftmax: L.ROW_LOG_SOFTMAX, sum: L.ROW_SUM };
    i32[job + L.ROWS_OP] = ops[op];
    i32[job + L.ROWS_COUNT] = rows;
    i32[job + L.ROWS_LENGTH] = length;
    i32[job + L.ROWS_SRC] = srcAt;
    i32[job + L.ROWS_DST] = dstAt;
    i32[job + L.ROWS_PER_TASK] = perTask;
    i32[job + L.ROWS_PARAM] = op === 'sum' ? inner : f32Bits[0]!;
    i32[job + L.ROWS_GRAD] = gradAt;
    if (pool && tasks > 1) pool.run(tasks);
    else kernels.exports.run(JOB_ADDRESS);
    return view ?? f32.slice(dstAt / 4, dstAt / 4 + count);
  } catch (error) {
    if (view) kernels.releaseView(view);
    throw error;
  } finally {
    blocks.releaseAll();
  }
}
