// conv2d and its two backward kernels in WASM: im2col / col2im (assembly/im2col.ts,
// one image per task) into column buffers in the kernels' heap, and one batched GEMM
// per chunk of images over those buffers (wasm-gemm.ts), all in place. The chunking
// and the GEMM shapes are those of the TypeScript path (src/cpu/conv.ts), both taken
// from kernels-common/conv-gemm.ts.

import type { TensorInfo } from '../backend.js';
import { convGemm, geometry, imagesPerChunk, type ConvGeometry } from '../kernels-common/conv-gemm.js';
import type { GemmBatch } from '../kernels-common/gemm-batch.js';
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

/**
 * Thrown inside a kernel body when the heap is full. Like a RangeError from growing the
 * memory, it makes the kernel return null, and the TypeScript path runs instead.
 */
class HeapFull extends RangeError {}

function gemmInHeap(kernels: WasmKernels, pool: ThreadPool | null, call: GemmBatch): void {
  if (!wasmGemm(kernels, pool, call)) throw new HeapFull('WASM memory full');
}

function heapAddress(kernels: WasmKernels, blocks: CallBlocks, array: Float32Array): number {
  const at = place(kernels, blocks, array);
  if (at === null) throw new HeapFull('WASM memory full');
  return at;
}

interface Workspace {
  readonly chunk: number;
  /** Column buffer [chunk, CKK, OHW] and the result, both views into the heap. */
  readonly cols: Float32Array;
  readonly result: Float32Array;
  readonly blocks: CallBlocks;
}

/**
 * Runs one conv kernel's `body` with a heap column buffer and a heap result of
 * `resultSize` floats; returns the result, or null when the heap is full or cannot
 * grow (before or during the body), having freed what it took.
 */
function inWorkspace(kernels: WasmKernels, g: ConvGeometry, resultSize: number, body: (w: Workspace) => void): Float32Array | null {
  const chunk = imagesPerChunk(g);
  const cols = kernels.viewF32(chunk * g.c * g.kh * g.kw * g.oh * g.ow);
  const result = kernels.viewF32(resultSize);
  if (!cols || !result) {
    if (cols) kernels.releaseView(cols);
    if (result) kernels.releaseView(result);
    return null;
  }
  const blocks = new CallBlocks(kernels);
  try {
    body({ chunk, cols, result, blocks });
    return result;
  } catch (error) {
    kernels.releaseView(result);
    if (error instanceof RangeError) return null;
    throw error;
  } finally {
    kernels.releaseView(cols);
    blocks.releaseAll();
  }
}

const imageBytes = (g: ConvGeometry): number => g.c * g.h * g.w * 4;

export function wasmConv2d(kernels: WasmKernels, pool: ThreadPool | null, x: Info, f: Info, attrs: OpAttrs['conv2d'], out: TensorMeta): Float32Array | null {
  const g = geometry(x.shape, f.shape, out.shape, attrs);
  return inWorkspace(kernels, g, g.n * g.o * g.oh * g.ow, ({ chunk, cols, result, blocks }) => {
    const xAt = heapAddress(kernels, blocks, x.buffer);
    for (let b0 = 0; b0 < g.n; b0 += chunk) {
      const count = Math.min(chunk, g.n - b0);
      columns(kernels, pool, g, xAt + b0 * imageBytes(g), cols.byteOffset, count, false);
      gemmInHeap(kernels, pool, convGemm.forward(g, f.buffer, cols, result, b0, count));
    }
  });
}

export function wasmConv2dBackpropInput(kernels: WasmKernels, pool: ThreadPool | null, dy: Info, f: Info, attrs: OpAttrs['conv2dBackpropInput']): Float32Array | null {
  const g = geometry(attrs.inputShape, f.shape, dy.shape, attrs);
  return inWorkspace(kernels, g, g.n * g.c * g.h * g.w, ({ chunk, cols, result }) => {
    for (let b0 = 0; b0 < g.n; b0 += chunk) {
      const count = Math.min(chunk, g.n - b0);
      gemmInHeap(kernels, pool, convGemm.input(g, f.buffer, dy.buffer, cols, b0, count));
      columns(kernels, pool, g, result.byteOffset + b0 * imageBytes(g), cols.byteOffset, count, true);
    }
    if (g.n === 0) result.fill(0);
  });
}

export function wasmConv2dBackpropFilter(kernels: WasmKernels, pool: ThreadPool | null, x: Info, dy: Info, attrs: OpAttrs['conv2dBackpropFilter']): Float32Array | null {
  const g = geometry(x.shape, attrs.filterShape, dy.shape, attrs);
  return inWorkspace(kernels, g, g.o * g.c * g.kh * g.kw, ({ chunk, cols, result, blocks }) => {
    const xAt = heapAddress(kernels, blocks, x.buffer);
    if (g.n === 0) result.fill(0);
    for (let b0 = 0; b0 < g.n; b0 += chunk) {
      const count = Math.min(chunk, g.n - b0);
      columns(kernels, pool, g, xAt + b0 * imageBytes(g), cols.byteOffset, count, false);
      gemmInHeap(kernels, pool, convGemm.filter(g, dy.buffer, cols, result, b0, count));
    }
  });
}
