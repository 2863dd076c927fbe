// The WASM implementation of BatchedGemm: writes one GEMM job (a batch table plus
// strides that encode the transpositions) and runs it on one thread or the pool.
// Operands that already live in the kernels' heap (results of earlier WASM kernels)
// are used in place; others are copied in, and a C outside the heap is copied back.

import { checkBias, type GemmBatch } from '../kernels-common/gemm-batch.js';
import type { ThreadPool } from './thread-pool.js';
import { CallBlocks, JOB_ADDRESS, type WasmKernels } from './wasm-kernels.js';

/** Tasks per participating thread when splitting: several, so a busy core delays less. */
const TASKS_PER_THREAD = 4;
/** Smallest task in rows / columns of C (smaller tasks repack too often). */
const MIN_TILE_ROWS = 32;
const MIN_TILE_COLS = 64;

function roundUp(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}

/**
 * Rows and columns of C per task so that about TASKS_PER_THREAD tasks per thread exist.
 * Each task packs its own rows of A (tileM x k) and columns of B (k x tileN), so a
 * split into partsM x partsN tasks packs k (partsN m + partsM n) values in all: of the
 * splits that reach the task count, take the one that packs least (split the long side).
 */
export function gemmSplit(m: number, n: number, parallelItems: number, threads: number, mr: number, nr: number): [number, number] {
  const wanted = Math.ceil((TASKS_PER_THREAD * threads) / parallelItems);
  if (threads <= 1 || wanted <= 1) return [Math.max(1, m), Math.max(1, n)];
  const maxM = Math.max(1, Math.min(wanted, Math.floor(m / MIN_TILE_ROWS)));
  const maxN = Math.max(1, Math.floor(n / MIN_TILE_COLS));
  const splits = Array.from({ length: maxM }, (_, i) => [i + 1, Math.min(Math.ceil(wanted / (i + 1)), maxN)] as const);
  const reach = Math.max(...splits.map(([pm, pn]) => Math.min(pm * pn, wanted)));
  let best = splits[0]!;
  let bestCost = Infinity;
  for (const [pm, pn] of splits) {
    const cost = pn * m + pm * n;
    if (pm * pn >= reach && cost < bestCost) [best, bestCost] = [[pm, pn], cost];
  }
  return [roundUp(Math.ceil(m / best[0]), mr), roundUp(Math.ceil(n / best[1]), nr)];
}

function span(offsets: readonly number[], size: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const o of offsets) {
    lo = Math.min(lo, o);
    hi = Math.max(hi, o + size);
  }
  return [lo, hi];
}

/** Byte address of element 0 of `array` as the kernels see it (copying the used span in if needed), or null when full. */
function placeOperand(kernels: WasmKernels, blocks: CallBlocks, array: Float32Array, offsets: readonly number[], size: number): number | null {
  const inHeap = kernels.addressOf(array);
  if (inHeap !== null) return inHeap;
  const [lo, hi] = span(offsets, size);
  const at = blocks.take((hi - lo) * 4);
  if (at === null) return null;
  kernels.heapF32().set(array.subarray(lo, hi), at / 4);
  return at - lo * 4;
}

/** Runs `g` with the WASM kernels; returns false (doing nothing) when it does not fit their memory. */
export function wasmGemm(kernels: WasmKernels, pool: ThreadPool | null, g: GemmBatch): boolean {
  const { m, n, k } = g;
  checkBias(g);
  const items = g.cOffsets.length;
  if (items === 0 || m === 0 || n === 0) return true;
  const L = kernels.layout;
  const sumBatch = items > 1 && g.cOffsets.every((o) => o === g.cOffsets[0]);
  const threads = pool ? pool.workers + 1 : 1;
  const [tileM, tileN] = gemmSplit(m, n, sumBatch ? 1 : items, threads, L.GEMM_MR, L.GEMM_NR);
  const tiles = Math.ceil(m / tileM) * Math.ceil(n / tileN);
  const tasks = sumBatch ? tiles : tiles * items;
  const participants = pool && tasks > 1 ? threads : 1;
  const scratchBytes = roundUp(kernels.exports.gemmScratchBytes(tileM, tileN, k), 64);

  const blocks = new CallBlocks(kernels);
  try {
    const scratchAt = blocks.take(participants * scratchBytes);
    const tableAt = blocks.take(items * 12);
    const aBase = placeOperand(kernels, blocks, g.a, g.aOffsets, m * k);
    const bBase = placeOperand(kernels, blocks, g.b, g.bOffsets, k * n);
    const biasAt = g.bias ? placeOperand(kernels, blocks, g.bias, [0], n) : 0;
    const cInHeap = kernels.addressOf(g.c);
    const [cLo, cHi] = span(g.cOffsets, m * n);
    const cAt = cInHeap ?? blocks.take((cHi - cLo) * 4);
    if (scratchAt === null || tableAt === null || aBase === null || bBase === null || biasAt === null || cAt === null) return false;
    const cBase = cInHeap ?? cAt - cLo * 4;
    const cBlocks = cInHeap === null ? [...new Set(g.cOffsets)] : [];

    const f32 = kernels.heapF32();
    const i32 = kernels.beginJob(L.KIND_GEMM, tasks, participants, scratchAt, scratchBytes);
    if (g.accumulate) for (const offset of cBlocks) f32.set(g.c.subarray(offset, offset + m * n), cBase / 4 + offset);
    for (let t = 0; t < items; t++) {
      const row = tableAt / 4 + t * 3;
      i32[row] = aBase + g.aOffsets[t]! * 4;
      i32[row + 1] = bBase + g.bOffsets[t]! * 4;
      i32[row + 2] = cBase + g.cOffsets[t]! * 4;
    }
    const job = JOB_ADDRESS / 4;
    i32[job + L.GEMM_M] = m;
    i32[job + L.GEMM_N] = n;
    i32[job + L.GEMM_K] = k;
    // op(A) is m x k: stored [m, k] (row stride k) or, transposed, [k, m] (column stride m).
    i32[job + L.GEMM_A_RS] = g.transA ? 1 : k;
    i32[job + L.GEMM_A_CS] = g.transA ? m : 1;
    i32[job + L.GEMM_B_RS] = g.transB ? 1 : n;
    i32[job + L.GEMM_B_CS] = g.transB ? k : 1;
    i32[job + L.GEMM_LDC] = n;
    i32[job + L.GEMM_BATCH] = items;
    i32[job + L.GEMM_TABLE] = tableAt;
    i32[job + L.GEMM_SUM_BATCH] = sumBatch ? 1 : 0;
    i32[job + L.GEMM_ACCUMULATE] = g.accumulate ? 1 : 0;
    i32[job + L.GEMM_TILE_M] = tileM;
    i32[job + L.GEMM_TILE_N] = tileN;
    i32[job + L.GEMM_BIAS] = biasAt;
    if (participants > 1) pool!.run(tasks);
    else kernels.exports.run(JOB_ADDRESS);

    for (const offset of cBlocks) g.c.set(f32.subarray(cBase / 4 + offset, cBase / 4 + offset + m * n), offset);
    return true;
  } finally {
    blocks.releaseAll();
  }
}
