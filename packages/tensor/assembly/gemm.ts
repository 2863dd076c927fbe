// Blocked GEMM (the BLIS loop nest): C (+)= op(A) . op(B) for one task of a job.
// Loops, outermost first: NC-wide column blocks of C; KC-deep slices of k (pack
// that slice of B); MC-tall row blocks (pack that block of A); then NR x MR
// micro-tiles. A packed MC x KC block of A stays in L2 and a KC x NR panel of B in
// L1 while the micro-kernel sweeps it; ragged edge tiles go through a small buffer.

import { JOB_ARGS, jobWord } from './job';
import { MR, NR, microkernel } from './microkernel';
import { packA, packB } from './pack';

/**
 * Block sizes in elements: a KC x NR panel of B is 12 KiB (L1), an MC x KC block of A
 * 192 KiB (L2). Measured on the 2-core development machine (AMD EPYC, 1 MiB L2):
 * KC = 384 ran 512^3 at ~48 GFLOP/s against ~38 for KC = 256 and ~33 for KC = 128.
 */
const MC: i32 = 128;
const KC: i32 = 384;
const NC: i32 = 2048;

// Argument words of a GEMM job (after the header).
export const GEMM_M: i32 = JOB_ARGS;
export const GEMM_N: i32 = JOB_ARGS + 1;
export const GEMM_K: i32 = JOB_ARGS + 2;
/** Element strides of op(A) (m x k): between rows, between columns. Likewise op(B) (k x n). */
export const GEMM_A_RS: i32 = JOB_ARGS + 3;
export const GEMM_A_CS: i32 = JOB_ARGS + 4;
export const GEMM_B_RS: i32 = JOB_ARGS + 5;
export const GEMM_B_CS: i32 = JOB_ARGS + 6;
/** Row stride of C in elements (C columns are contiguous). */
export const GEMM_LDC: i32 = JOB_ARGS + 7;
export const GEMM_BATCH: i32 = JOB_ARGS + 8;
/** Byte address of the batch table: per batch item, byte addresses of its A, B and C. */
export const GEMM_TABLE: i32 = JOB_ARGS + 9;
/** 1: every batch item adds into the same C (sum over the batch), split only by tiles. */
export const GEMM_SUM_BATCH: i32 = JOB_ARGS + 10;
/** 1: add to C's current contents; 0: overwrite C. */
export const GEMM_ACCUMULATE: i32 = JOB_ARGS + 11;
/** Rows and columns of C per task (the job's split for threads). */
export const GEMM_TILE_M: i32 = JOB_ARGS + 12;
export const GEMM_TILE_N: i32 = JOB_ARGS + 13;
/**
 * Byte address of a bias [n] that starts every row of C in place of 0 (0: none). It rides
 * in the first k-slice's store, so C is written once instead of filled and then re-read.
 */
export const GEMM_BIAS: i32 = JOB_ARGS + 14;

@inline function ceilDiv(a: i32, b: i32): i32 {
  return (a + b - 1) / b;
}

@inline function roundUp(a: i32, b: i32): i32 {
  return ceilDiv(a, b) * b;
}

/** Scratch bytes one thread needs for tasks of tileM x tileN over depth k. */
export function gemmScratchBytes(tileM: i32, tileN: i32, k: i32): i32 {
  const kc = max(1, min(KC, k));
  const a = roundUp(min(MC, tileM), MR) * kc;
  const b = roundUp(min(NC, tileN), NR) * kc;
  return (a + b + MR * NR) * 4;
}

/** Number of tasks in a GEMM job with the given split. */
export function gemmTasks(m: i32, n: i32, batch: i32, tileM: i32, tileN: i32, sumBatch: i32): i32 {
  const tiles = ceilDiv(m, tileM) * ceilDiv(n, tileN);
  return sumBatch ? tiles : tiles * batch;
}

/** Adds (or stores, plus bias[0:cols] when `bias` is not 0) the rows x cols corner of a dense MR x NR tile into C. */
function storeEdge(tile: usize, c: usize, ldc: usize, rows: i32, cols: i32, overwrite: bool, bias: usize): void {
  for (let i = 0; i < rows; i++) {
    const src = tile + (<usize>(i * NR) << 2);
    const dst = c + <usize>i * ldc;
    for (let j = 0; j < cols; j++) {
      const o = <usize>j << 2;
      const start = overwrite ? (bias != 0 ? load<f32>(bias + o) : <f32>0) : load<f32>(dst + o);
      store<f32>(dst + o, start + load<f32>(src + o));
    }
  }
}

/** C[i0:i1, j0:j1] (+)= op(A)[i0:i1, :] . op(B)[:, j0:j1] for one batch item. */
function gemmBlock(job: usize, a: usize, b: usize, c: usize, i0: i32, i1: i32, j0: i32, j1: i32, accumulate: bool, scratch: usize): void {
  const k = jobWord(job, GEMM_K);
  const aRs = jobWord(job, GEMM_A_RS), aCs = jobWord(job, GEMM_A_CS);
  const bRs = jobWord(job, GEMM_B_RS), bCs = jobWord(job, GEMM_B_CS);
  const ldc = <usize>jobWord(job, GEMM_LDC) << 2;
  const bias = <usize>jobWord(job, GEMM_BIAS);
  const kcMax = max(1, min(KC, k));
  const packedA = scratch;
  const packedB = packedA + (<usize>(roundUp(min(MC, i1 - i0), MR) * kcMax) << 2);
  const tile = packedB + (<usize>(roundUp(min(NC, j1 - j0), NR) * kcMax) << 2);
  if (k == 0) {
    // An empty sum: C = 0 or the bias (or unchanged when accumulating).
    if (accumulate) return;
    for (let i = i0; i < i1; i++) {
      const row = c + <usize>i * ldc + (<usize>j0 << 2);
      if (bias != 0) memory.copy(row, bias + (<usize>j0 << 2), <usize>(j1 - j0) << 2);
      else memory.fill(row, 0, <usize>(j1 - j0) << 2);
    }
    return;
  }
  for (let jc = j0; jc < j1; jc += NC) {
    const nc = min(NC, j1 - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const overwrite = pc == 0 && !accumulate;
      packB(b, bRs, bCs, pc, jc, kc, nc, packedB);
      for (let ic = i0; ic < i1; ic += MC) {
        const mc = min(MC, i1 - ic);
        packA(a, aRs, aCs, ic, pc, mc, kc, packedA);
        for (let jr = 0; jr < nc; jr += NR) {
          const cols = min(NR, nc - jr);
          const bPanel = packedB + (<usize>(jr * kc) << 2);
          const biasAt = bias != 0 ? bias + (<usize>(jc + jr) << 2) : 0;
          for (let ir = 0; ir < mc; ir += MR) {
            const rows = min(MR, mc - ir);
            const aPanel = packedA + (<usize>(ir * kc) << 2);
            const cTile = c + <usize>(ic + ir) * ldc + (<usize>(jc + jr) << 2);
            if (rows == MR && cols == NR) {
              microkernel(kc, aPanel, bPanel, cTile, ldc, overwrite, biasAt);
            } else {
              microkernel(kc, aPanel, bPanel, tile, <usize>NR << 2, true, 0);
              storeEdge(tile, cTile, ldc, rows, cols, overwrite, biasAt);
            }
          }
        }
      }
    }
  }
}

/** Runs task `t` of a GEMM job. */
export function gemmTask(job: usize, t: i32, scratch: usize): void {
  const m = jobWord(job, GEMM_M), n = jobWord(job, GEMM_N);
  const tileM = jobWord(job, GEMM_TILE_M), tileN = jobWord(job, GEMM_TILE_N);
  const tilesN = ceilDiv(n, tileN);
  const tiles = ceilDiv(m, tileM) * tilesN;
  const sumBatch = jobWord(job, GEMM_SUM_BATCH) != 0;
  const batch = jobWord(job, GEMM_BATCH);
  const tileIndex = sumBatch ? t : t % tiles;
  const first = sumBatch ? 0 : t / tiles;
  const last = sumBatch ? batch : first + 1;
  const i0 = (tileIndex / tilesN) * tileM, j0 = (tileIndex % tilesN) * tileN;
  const i1 = min(m, i0 + tileM), j1 = min(n, j0 + tileN);
  const table = <usize>jobWord(job, GEMM_TABLE);
  const accumulate = jobWord(job, GEMM_ACCUMULATE) != 0;
  for (let item = first; item < last; item++) {
    const entry = table + <usize>item * 12;
    const a = <usize>load<u32>(entry), b = <usize>load<u32>(entry, 4), c = <usize>load<u32>(entry, 8);
    gemmBlock(job, a, b, c, i0, i1, j0, j1, accumulate || item > first, scratch);
  }
}
