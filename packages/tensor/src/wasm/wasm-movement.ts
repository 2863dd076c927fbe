// permute, expand, slice, pad and concat on float32 in WASM: each is described as
// strided copies (the same formulas as src/cpu/movement.ts; pad's border is copies
// from a one-element source with all strides 0) and run by
// assembly/strided-copy.ts into a result in the kernels' heap, so attention's
// reshuffles and the slice/pad pairs of autograd stay in place with the other
// WASM results instead of round-tripping through fresh JS arrays.

import type { TensorInfo } from '../backend.js';
import type { OpAttrs, TensorMeta } from '../ops.js';
import { broadcastStrides, normalizeAxis, sizeOf, stridesOf } from '../shape.js';
import type { ThreadPool } from './thread-pool.js';
import { CallBlocks, JOB_ADDRESS, type WasmKernels } from './wasm-kernels.js';

type Info = TensorInfo<Float32Array>;

/** dst[dstOffset + sum_d c_d dstStrides_d] = src[srcOffset + sum_d c_d srcStrides_d] for every c in `shape`. */
export interface StridedCopy {
  readonly src: Float32Array;
  readonly srcOffset: number;
  readonly srcStrides: readonly number[];
  readonly shape: readonly number[];
  readonly dstOffset: number;
  readonly dstStrides: readonly number[];
}

/** The copies that together write every element of a result once. */
export interface CopyPlan {
  readonly copies: readonly StridedCopy[];
}

export function permutePlan(x: Info, { perm }: OpAttrs['permute'], out: TensorMeta): CopyPlan {
  const inStrides = stridesOf(x.shape);
  return { copies: [{ src: x.buffer, srcOffset: 0, srcStrides: perm.map((p) => inStrides[p]!), shape: out.shape, dstOffset: 0, dstStrides: stridesOf(out.shape) }] };
}

export function expandPlan(x: Info, out: TensorMeta): CopyPlan {
  return { copies: [{ src: x.buffer, srcOffset: 0, srcStrides: broadcastStrides(x.shape, out.shape), shape: out.shape, dstOffset: 0, dstStrides: stridesOf(out.shape) }] };
}

export function slicePlan(x: Info, { begin }: OpAttrs['slice'], out: TensorMeta): CopyPlan {
  const strides = stridesOf(x.shape);
  const offset = begin.reduce((acc, b, i) => acc + b * strides[i]!, 0);
  return { copies: [{ src: x.buffer, srcOffset: offset, srcStrides: strides, shape: out.shape, dstOffset: 0, dstStrides: stridesOf(out.shape) }] };
}

export function padPlan(x: Info, { pads, value }: OpAttrs['pad'], out: TensorMeta): CopyPlan | null {
  if (pads.some(([before, after]) => before < 0 || after < 0)) return null;
  const outStrides = stridesOf(out.shape);
  const interior = pads.reduce((acc, [before], i) => acc + before * outStrides[i]!, 0);
  const copies: StridedCopy[] = [{ src: x.buffer, srcOffset: 0, srcStrides: stridesOf(x.shape), shape: x.shape, dstOffset: interior, dstStrides: outStrides }];
  // The border, each element written once: for each dim d, the slabs before and after
  // the interior along d, inside the interior along the dims before d, whole along the
  // dims after it.
  const fill = Float32Array.of(value);
  const zeros = out.shape.map(() => 0);
  let corner = 0; // offset of the interior's corner along the dims before d
  pads.forEach(([before, after], d) => {
    const slab = (size: number, start: number) => {
      if (size === 0 || sizeOf(out.shape) === 0) return;
      const shape = [...x.shape.slice(0, d), size, ...out.shape.slice(d + 1)];
      copies.push({ src: fill, srcOffset: 0, srcStrides: zeros, shape, dstOffset: corner + start * outStrides[d]!, dstStrides: outStrides });
    };
    slab(before, 0);
    slab(after, before + x.shape[d]!);
    corner += before * outStrides[d]!;
  });
  return { copies };
}

export function concatPlan(inputs: readonly Info[], { axis }: OpAttrs['concat'], out: TensorMeta): CopyPlan {
  const ax = normalizeAxis('concat', axis, out.shape.length);
  const outStrides = stridesOf(out.shape);
  let start = 0;
  const copies = inputs.map((t) => {
    const copy = { src: t.buffer, srcOffset: 0, srcStrides: stridesOf(t.shape), shape: t.shape, dstOffset: start * outStrides[ax]!, dstStrides: outStrides };
    start += t.shape[ax]!;
    return copy;
  });
  return { copies };
}

/** Drops size-1 dims and merges neighbours that are contiguous on both sides (longer inner rows). */
export function mergeDims(shape: readonly number[], src: readonly number[], dst: readonly number[]): [number[], number[], number[]] {
  const s: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  shape.forEach((size, d) => {
    if (size === 1) return;
    const last = s.length - 1;
    if (last >= 0 && a[last] === src[d]! * size && b[last] === dst[d]! * size) {
      s[last]! *= size;
      a[last] = src[d]!;
      b[last] = dst[d]!;
    } else {
      s.push(size);
      a.push(src[d]!);
      b.push(dst[d]!);
    }
  });
  if (s.length === 0) return [[1], [0], [0]];
  return [s, a, b];
}

const MAX_RANK = 8;
const TASKS_PER_THREAD = 4;
/** Elements a copy needs before it is split over threads. */
const SPLIT_MIN = 1 << 16;
/** Shortest row splitInner makes (a task of shorter rows would be mostly overhead). */
const MIN_SPLIT_ROW = 1024;

/**
 * Splits the innermost dim of a merged copy into [n / q, q * stride...] rows so that a
 * long contiguous copy (a slice of leading rows, pad's slabs) has enough rows to share
 * over `tasks` tasks; unchanged when it has enough rows or n has no divisor that fits.
 */
export function splitInner([shape, src, dst]: [number[], number[], number[]], tasks: number): [number[], number[], number[]] {
  const n = shape.at(-1)!;
  if (tasks <= 1 || sizeOf(shape.slice(0, -1)) >= tasks || shape.length >= MAX_RANK) return [shape, src, dst];
  for (let q = tasks; q <= tasks * 8 && q * MIN_SPLIT_ROW <= n; q++) {
    if (n % q !== 0) continue;
    const row = n / q;
    const [ss, ds] = [src.at(-1)!, dst.at(-1)!];
    return [[...shape.slice(0, -1), q, row], [...src.slice(0, -1), ss * row, ss], [...dst.slice(0, -1), ds * row, ds]];
  }
  return [shape, src, dst];
}

/** Runs a plan into a new result of `count` elements; null when a copy has rank > 8 or memory is full. */
export function wasmStridedCopies(kernels: WasmKernels, pool: ThreadPool | null, plan: CopyPlan, count: number): Float32Array | null {
  const threads = pool ? pool.workers + 1 : 1;
  const merged = plan.copies.map((c) => {
    const dims = mergeDims(c.shape, c.srcStrides, c.dstStrides);
    return threads > 1 && sizeOf(c.shape) >= SPLIT_MIN ? splitInner(dims, threads * TASKS_PER_THREAD) : dims;
  });
  if (merged.some(([shape]) => shape.length > MAX_RANK)) return null;
  const L = kernels.layout;
  const blocks = new CallBlocks(kernels);
  const view = kernels.viewF32(count);
  try {
    const scratchAt = blocks.take(threads * 64);
    const dstAt = view ? view.byteOffset : blocks.take(count * 4);
    const srcAt = new Map<Float32Array, number | null>();
    for (const c of plan.copies) {
      if (!srcAt.has(c.src)) srcAt.set(c.src, kernels.addressOf(c.src) ?? blocks.take(c.src.length * 4));
    }
    if (scratchAt === null || dstAt === null || [...srcAt.values()].includes(null)) {
      if (view) kernels.releaseView(view);
      return null;
    }
    const f32 = kernels.heapF32();
    const i32 = kernels.heapI32();
    for (const [buffer, at] of srcAt) if (kernels.addressOf(buffer) === null) f32.set(buffer, at! / 4);
    const job = JOB_ADDRESS / 4;
    plan.copies.forEach((c, index) => {
      const [shape, srcStrides, dstStrides] = merged[index]!;
      const rows = sizeOf(shape.slice(0, -1));
      const elements = sizeOf(shape);
      const perTask = threads > 1 && elements >= SPLIT_MIN ? Math.ceil(rows / (threads * TASKS_PER_THREAD)) : rows;
      const tasks = Math.max(1, Math.ceil(rows / Math.max(1, perTask)));
      kernels.beginJob(L.KIND_COPY, tasks, threads, scratchAt, 64);
      i32[job + L.COPY_RANK] = shape.length;
      i32[job + L.COPY_SRC] = srcAt.get(c.src)! + c.srcOffset * 4;
      i32[job + L.COPY_DST] = dstAt + c.dstOffset * 4;
      i32[job + L.COPY_ROWS_PER_TASK] = Math.max(1, perTask);
      shape.forEach((size, d) => {
        i32[job + L.COPY_SHAPE + d] = size;
        i32[job + L.COPY_SRC_STRIDES + d] = srcStrides[d]!;
        i32[job + L.COPY_DST_STRIDES + d] = dstStrides[d]!;
      });
      if (elements === 0) return;
      if (pool && tasks > 1) pool.run(tasks);
      else kernels.exports.run(JOB_ADDRESS);
    });
    return view ?? f32.slice(dstAt / 4, dstAt / 4 + count);
  } catch (error) {
    if (view) kernels.releaseView(view);
    throw error;
  } finally {
    blocks.releaseAll();
  }
}
