// The adamUpdate op in WASM SIMD (assembly/adam.ts): one job reads param, grad and both
// moments and writes the three new arrays, split over the pool for large parameters. Like
// the elementwise kernels, inputs already in the heap are read in place and the results are
// heap views where memory is shared (the backend releases them when their tensors are freed).

import type { TensorInfo } from '../backend.js';
import type { OpAttrs } from '../ops.js';
import type { ThreadPool } from './thread-pool.js';
import { CallBlocks, JOB_ADDRESS, type WasmKernels } from './wasm-kernels.js';

/** Elements per task are a multiple of this (whole SIMD vectors, cache lines apart). */
const TASK_ALIGN = 256;
const TASKS_PER_THREAD = 4;
const f32Bits = new Int32Array(1);
const f32Value = new Float32Array(f32Bits.buffer);

function bitsOf(value: number): number {
  f32Value[0] = value;
  return f32Bits[0]!;
}

/** [param', expAvg', expAvgSq'] from [param, grad, expAvg, expAvgSq]; null when the heap is full. */
export function wasmAdamUpdate(
  kernels: WasmKernels,
  pool: ThreadPool | null,
  inputs: readonly TensorInfo<Float32Array>[],
  attrs: OpAttrs['adamUpdate'],
): Float32Array[] | null {
  const L = kernels.layout;
  const count = inputs[0]!.buffer.length;
  if (count === 0) return [0, 1, 2].map(() => new Float32Array(0));
  const threads = pool ? pool.workers + 1 : 1;
  const taskSize = Math.ceil((threads > 1 ? Math.ceil(count / (threads * TASKS_PER_THREAD)) : count) / TASK_ALIGN) * TASK_ALIGN;
  const tasks = Math.ceil(count / taskSize);
  const participants = pool && tasks > 1 ? threads : 1;
  const blocks = new CallBlocks(kernels);
  // Each output is a heap view (returned as it is) or, without shared memory, a block copied out.
  const views: (Float32Array | null)[] = [];
  const releaseViews = () => views.forEach((v) => v && kernels.releaseView(v));
  try {
    const inputAt = inputs.map((t) => kernels.addressOf(t.buffer) ?? blocks.take(count * 4));
    const outputAt: (number | null)[] = [];
    for (let k = 0; k < 3; k++) {
      const view = kernels.viewF32(count);
      views.push(view);
      outputAt.push(view ? view.byteOffset : blocks.take(count * 4));
    }
    if ([...inputAt, ...outputAt].includes(null)) {
      releaseViews();
      return null;
    }
    const f32 = kernels.heapF32();
    inputs.forEach((t, k) => {
      if (kernels.addressOf(t.buffer) === null) f32.set(t.buffer, inputAt[k]! / 4);
    });
    const i32 = kernels.beginJob(L.KIND_ADAM, tasks, participants);
    const job = JOB_ADDRESS / 4;
    i32[job + L.ADAM_COUNT] = count;
    i32[job + L.ADAM_TASK_SIZE] = taskSize;
    [...inputAt, ...outputAt].forEach((at, k) => (i32[job + L.ADAM_ARRAYS + k] = at!));
    [attrs.momentWeight, attrs.varianceWeight, attrs.decay, attrs.alpha, attrs.eps].forEach((v, k) => (i32[job + L.ADAM_SCALARS + k] = bitsOf(v)));
    try {
      if (participants > 1) pool!.run(tasks);
      else kernels.exports.run(JOB_ADDRESS);
    } catch (error) {
      releaseViews();
      throw error;
    }
    return outputAt.map((at, k) => views[k] ?? kernels.heapF32().slice(at! / 4, at! / 4 + count));
  } finally {
    blocks.releaseAll();
  }
}
