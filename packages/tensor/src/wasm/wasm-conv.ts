// conv2d and its two backward kernels in WASM: im2col / col2im (assembly/im2col.ts,
// one image per task) into column buffers in the kernels' heap, and one batched GEMM
// per chunk of images over those buffers (wasm-gemm.ts), all in place. The chunking
// and the GEMM shapes are those of the TypeScript path (src/cpu/conv.ts).

import type { TensorInfo } from '../backend.js';
import { geometry, imagesPerChunk, steps, type ConvGeometry } from '../cpu/conv.js';
import type { OpAttrs, TensorMeta } from '../ops.js';
import type { ThreadPool } from './thread-pool.js';
import { wasmGemm } from './wasm-gemm.js';
import { CallBlocks, JOB_ADDRESS, type WasmKernels } from './wasm-kernels.js';

type Info = TensorInfo<Float32Array>;

/** Runs im2col (or col2im) for `count` images starting at byte address `images`. */
function columns(kernels: WasmKernels, pool: ThreadPool | null, g: ConvGeometry, images: number, cols: number, count: number, backward: boolean): void {
  const L = kernels.layout;
  const i32 = kernels.beginJob(L.KIND_IM2COL, count, pool ? pool.workers + 1 : 1);
  const job = JOB_ADDRESS / 4;
  const words: [number, number][] = [
    [L.CONV_C, g.c], [L.CONV_H, g.h], [L.CONV_W, g.w], [L.CONV_KH, g.kh], [L.CONV_KW, g.kw], [L.CONV_OH, g.oh], [L.CONV_OW, g.ow],
    [L.CONV_SH, g.sh], [L.CONV_SW, g.sw], [L.CONV_PH, g.ph], [L.CONV_PW, g.pw], [L.CONV_IMAGES, images], [L.CONV_COLS, cols], [L.CONV_BACKWARD, backward ? 1 : 0],
  ];
  for (const [word, value] of words) i32[job + word] = value;
  if (pool && count > 1) pool.run(count);
  else kernels.exports.run(JOB_ADDRESS);
}

/** Byte address of a tensor's data in the heap (copied in when it lives elsewhere), or null when full. */
function place(kernels: WasmKernels, blocks: CallBlocks, array: Float32Array): number | null {
  const inHeap = kernels.addressOf(array);
  if (inHeap !== null) return inHeap;
  const at = blocks.take(array.length * 4);
  if (at !== null) kernels.heapF32().set(array, at / 4);
  return at;
}

/** Shared set-up: geometry, chunking, a heap column buffer and a heap result; null when memory is full. */
function prepare(kernels: WasmKernels, g: ConvGeometry, resultSize: number) {
  const ckk = g.c * g.kh * g.kw;
  const spatial = g.oh * g.ow;
  const chunk = imagesPerChunk(g);
  const cols = kernels.viewF32(chunk * ckk * spatial);
  const result = kernels.viewF32(resultSize);
  if (!cols || !result) {
    if (cols) kernels.releaseView(cols);
    if (result) kernels.releaseView(result);
    return null;
  }
  return { ckk, spatial, chunk, cols, result };
}

export function wasmConv2d(kernels: WasmKernels, pool: ThreadPool | null, x: Info, f: Info, attrs: OpAttrs['conv2d'], out: TensorMeta): Float32Array | null {
  const g = geometry(x.shape, f.shape, out.shape, attrs);
  const p = prepare(kernels, g, g.n * g.o * g.oh * g.ow);
  if (!p) return null;
  const blocks = new CallBlocks(kernels);
  try {
    const xAt = place(kernels, blocks, x.buffer);
    if (xAt === null) throw new RangeError('WASM memory full');
    for (let b0 = 0; b0 < g.n; b0 += p.chunk) {
      const count = Math.min(p.chunk, g.n - b0);
      columns(kernels, pool, g, xAt + b0 * g.c * g.h * g.w * 4, p.cols.byteOffset, count, false);
      // y_b [O, OHW] = W [O, CKK] . cols_b [CKK, OHW]
      const fits = wasmGemm(kernels, pool, {
        a: f.buffer, b: p.cols, c: p.result, m: g.o, n: p.spatial, k: p.ckk, transA: false, transB: false,
        aOffsets: steps(count, 0, 0), bOffsets: steps(count, 0, p.ckk * p.spatial), cOffsets: steps(count, b0 * g.o * p.spatial, g.o * p.spatial),
        accumulate: false,
      });
      if (!fits) throw new RangeError('WASM memory full');
    }
    return p.result;
  } catch (error) {
    kernels.releaseView(p.result);
    if (error instanceof RangeError) return null;
    throw error;
  } finally {
    kernels.releaseView(p.cols);
    blocks.releaseAll();
  }
}

export function wasmConv2dBackpropInput(kernels: WasmKernels, pool: ThreadPool | null, dy: Info, f: Info, attrs: OpAttrs['conv2dBackpropInput']): Float32Array | null {
  const g = geometry(attrs.inputShape, f.shape, dy.shape, attrs);
  const p = prepare(kernels, g, g.n * g.c * g.h * g.w);
  if (!p) return null;
  try {
    for (let b0 = 0; b0 < g.n; b0 += p.chunk) {
      const count = Math.min(p.chunk, g.n - b0);
      // cols_b [CKK, OHW] = W^T [CKK, O] . dy_b [O, OHW]
      const fits = wasmGemm(kernels, pool, {
        a: f.buffer, b: dy.buffer, c: p.cols, m: p.ckk, n: p.spatial, k: g.o, transA: true, transB: false,
        aOffsets: steps(count, 0, 0), bOffsets: steps(count, b0 * g.o * p.spatial, g.o * p.spatial), cOffsets: steps(count, 0, p.ckk * p.spatial),
        accumulate: false,
      });
      if (!fits) throw new RangeError('WASM memory full');
      columns(kernels, pool, g, p.result.byteOffset + b0 * g.c * g.h * g.w * 4, p.cols.byteOffset, count, true);
    }
    if (g.n === 0) p.result.fill(0);
    return p.result;
  } catch (error) {
    kernels.releaseView(p.result);
    if (error instanceof RangeError) return null;
    throw error;
  } finally {
    kernels.releaseView(p.cols);
  }
}

export function wasmConv2dBackpropFilter(kernels: WasmKernels, pool: ThreadPool | null, x: Info, dy: Info, attrs: OpAttrs['conv2dBackpropFilter']): Float32Array | null {
  const g = geometry(x.shape, attrs.filterShape, dy.shape, attrs);
  const p = prepare(kernels, g, g.o * g.c * g.kh * g.kw);
  if (!p) return null;
  const blocks = new CallBlocks(kernels);
  try {
    const xAt = place(kernels, blocks, x.buffer);
    if (xAt === null) throw new RangeError('WASM memory full');
    if (g.n === 0) p.result.fill(0);
    for (let b0 = 0; b0 < g.n; b0 += p.chunk) {
      const count = Math.min(p.chunk, g.n - b0);
      columns(kernels, pool, g, xAt + b0 * g.c * g.h * g.w * 4, p.cols.byteOffset, count, false);
      // dW [O, CKK] (+)= sum_b dy_b [O, OHW] . cols_b^T [OHW, CKK]
      const fits = wasmGemm(kernels, pool, {
        a: dy.buffer, b: p.cols, c: p.result, m: g.o, n: p.ckk, k: p.spatial, transA: false, transB: true,
        aOffsets: steps(count, b0 * g.o * p.spatial, g.o * p.spatial), bOffsets: steps(count, 0, p.ckk * p.spatial), cOffsets: steps(count, 0, 0),
        accumulate: b0 > 0,
      });
      if (!fits) throw new RangeError('WASM memory full');
    }
    return p.result;
  } catch (error) {
    kernels.releaseView(p.result);
    if (error instanceof RangeError) return null;
    throw error;
  } finally {
    kernels.releaseView(p.cols);
    blocks.releaseAll();
  }
}
