// The WASM implementation of BatchedGemm: copies the operand spans into the
// kernels' memory, writes one GEMM job (a batch table plus strides that encode the
// transpositions), runs it on one thread or the pool, and copies the result blocks
// back. Copies are O(n^2) against the O(n^3) product, and let the backend keep its
// ordinary typed arrays.

import type { GemmBatch } from '../cpu/matmul.js';
import type { ThreadPool } from './thread-pool.js';
import { JOB_ADDRESS, WORKSPACE_ADDRESS, type WasmKernels } from './wasm-kernels.js';

/** Tasks per participating thread when splitting: several, so a busy core delays less. */
const TASKS_PER_THREAD = 4;
/** Smallest task in rows / columns of C (smaller tasks repack too often). */
const MIN_TILE_ROWS = 32;
const MIN_TILE_COLS = 64;

function roundUp(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}

/** Rows and columns of C per task so that about TASKS_PER_THREAD tasks per thread exist. */
export function gemmSplit(m: number, n: number, parallelItems: number, threads: number, mr: number, nr: number): [number, number] {
  const wanted = Math.ceil((TASKS_PER_THREAD * threads) / parallelItems);
  if (threads <= 1 || wanted <= 1) return [Math.max(1, m), Math.max(1, n)];
  const partsM = Math.max(1, Math.min(wanted, Math.floor(m / MIN_TILE_ROWS)));
  const partsN = Math.max(1, Math.min(Math.ceil(wanted / partsM), Math.floor(n / MIN_TILE_COLS)));
  return [roundUp(Math.ceil(m / partsM), mr), roundUp(Math.ceil(n / partsN), nr)];
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

/** Runs `g` with the WASM kernels; returns false (doing nothing) when it does not fit their memory. */
export function wasmGemm(kernels: WasmKernels, pool: ThreadPool | null, g: GemmBatch): boolean {
  const { m, n, k } = g;
  const items = g.cOffsets.length;
  if (items === 0 || m === 0 || n === 0) return true;
  const L = kernels.layout;
  const sumBatch = items > 1 && g.cOffsets.every((o) => o === g.cOffsets[0]);
  const threads = pool ? pool.workers + 1 : 1;
  const [tileM, tileN] = gemmSplit(m, n, sumBatch ? 1 : items, threads, L.GEMM_MR, L.GEMM_NR);
  const tiles = Math.ceil(m / tileM) * Math.ceil(n / tileN);
  const tasks = sumBatch ? tiles : tiles * items;
  const participants = pool && tasks > 1 ? threads : 1;

  // Workspace: scratch slots | batch table | A span | B span | C blocks.
  const scratchBytes = roundUp(kernels.exports.gemmScratchBytes(tileM, tileN, k), 64);
  const tableAt = WORKSPACE_ADDRESS + participants * scratchBytes;
  const [aLo, aHi] = span(g.aOffsets, m * k);
  const [bLo, bHi] = span(g.bOffsets, k * n);
  const blocks = [...new Set(g.cOffsets)];
  const aAt = roundUp(tableAt + items * 12, 64);
  const bAt = roundUp(aAt + (aHi - aLo) * 4, 64);
  const cAt = roundUp(bAt + (bHi - bLo) * 4, 64);
  const end = cAt + blocks.length * m * n * 4;
  if (!kernels.reserve(end)) return false;

  const f32 = kernels.heapF32();
  const i32 = kernels.heapI32();
  f32.set(g.a.subarray(aLo, aHi), aAt / 4);
  f32.set(g.b.subarray(bLo, bHi), bAt / 4);
  const blockAt = new Map(blocks.map((offset, i) => [offset, cAt + i * m * n * 4]));
  if (g.accumulate) for (const [offset, at] of blockAt) f32.set(g.c.subarray(offset, offset + m * n), at / 4);
  for (let t = 0; t < items; t++) {
    const row = tableAt / 4 + t * 3;
    i32[row] = aAt + (g.aOffsets[t]! - aLo) * 4;
    i32[row + 1] = bAt + (g.bOffsets[t]! - bLo) * 4;
    i32[row + 2] = blockAt.get(g.cOffsets[t]!)!;
  }

  const job = JOB_ADDRESS / 4;
  i32.fill(0, job, job + L.JOB_ARGS + 16);
  i32[job + L.JOB_KIND] = L.KIND_GEMM;
  i32[job + L.JOB_TASKS] = tasks;
  i32[job + L.JOB_SCRATCH] = WORKSPACE_ADDRESS;
  i32[job + L.JOB_SCRATCH_BYTES] = scratchBytes;
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
  if (participants > 1) pool!.run(tasks);
  else kernels.exports.run(JOB_ADDRESS);

  for (const [offset, at] of blockAt) g.c.set(f32.subarray(at / 4, at / 4 + m * n), offset);
  return true;
}
