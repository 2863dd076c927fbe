// Strided copy, the one kernel behind permute, expand, slice, pad and concat:
// dst[sum_d c_d * dstStride_d] = src[sum_d c_d * srcStride_d] for every coordinate c
// of an iteration shape (rank <= 8, dims already merged where both sides are
// contiguous, by src/wasm/wasm-movement.ts). The innermost dim runs as a block copy
// when both sides are contiguous there, a broadcast when the source stride is 0.
// Tasks are ranges of rows (all dims but the innermost).

import { JOB_ARGS, jobWord } from './job';

export const COPY_RANK: i32 = JOB_ARGS;
export const COPY_SRC: i32 = JOB_ARGS + 1;
export const COPY_DST: i32 = JOB_ARGS + 2;
export const COPY_ROWS_PER_TASK: i32 = JOB_ARGS + 3;
/** shape[8], then srcStrides[8], then dstStrides[8] (elements). */
export const COPY_SHAPE: i32 = JOB_ARGS + 4;
export const COPY_SRC_STRIDES: i32 = JOB_ARGS + 12;
export const COPY_DST_STRIDES: i32 = JOB_ARGS + 20;

function copyRow(src: usize, dst: usize, n: i32, ss: i32, ds: i32): void {
  if (ss == 1 && ds == 1) {
    memory.copy(dst, src, <usize>n << 2);
  } else if (ss == 0 && ds == 1) {
    const v = v128.load32_splat(src);
    let j = 0;
    for (; j + 4 <= n; j += 4) v128.store(dst + (<usize>j << 2), v);
    for (; j < n; j++) store<f32>(dst + (<usize>j << 2), load<f32>(src));
  } else {
    for (let j = 0; j < n; j++) store<f32>(dst + (<usize>(j * ds) << 2), load<f32>(src + (<usize>(j * ss) << 2)));
  }
}

/** Runs task `t`; `scratch` holds the row odometer (32 bytes per thread). */
export function stridedCopyTask(job: usize, t: i32, scratch: usize): void {
  const rank = jobWord(job, COPY_RANK);
  const src = <usize>jobWord(job, COPY_SRC);
  const dst = <usize>jobWord(job, COPY_DST);
  const inner = rank - 1;
  const n = jobWord(job, COPY_SHAPE + inner);
  const ss = jobWord(job, COPY_SRC_STRIDES + inner);
  const ds = jobWord(job, COPY_DST_STRIDES + inner);
  let rows = 1;
  for (let d = 0; d < inner; d++) rows *= jobWord(job, COPY_SHAPE + d);
  const perTask = jobWord(job, COPY_ROWS_PER_TASK);
  const first = t * perTask;
  const last = min(rows, first + perTask);
  if (first >= last) return;
  // Coordinates of row `first` (an odometer over the outer dims, innermost fastest).
  const coord = scratch;
  let srcAt: i32 = 0;
  let dstAt: i32 = 0;
  let rem = first;
  for (let d = inner - 1; d >= 0; d--) {
    const size = jobWord(job, COPY_SHAPE + d);
    const c = rem % size;
    rem /= size;
    store<i32>(coord + (<usize>d << 2), c);
    srcAt += c * jobWord(job, COPY_SRC_STRIDES + d);
    dstAt += c * jobWord(job, COPY_DST_STRIDES + d);
  }
  for (let row = first; row < last; row++) {
    copyRow(src + (<usize>srcAt << 2), dst + (<usize>dstAt << 2), n, ss, ds);
    for (let d = inner - 1; d >= 0; d--) {
      const at = coord + (<usize>d << 2);
      const c = load<i32>(at) + 1;
      srcAt += jobWord(job, COPY_SRC_STRIDES + d);
      dstAt += jobWord(job, COPY_DST_STRIDES + d);
      if (c < jobWord(job, COPY_SHAPE + d)) {
        store<i32>(at, c);
        break;
      }
      store<i32>(at, 0);
      srcAt -= c * jobWord(job, COPY_SRC_STRIDES + d);
      dstAt -= c * jobWord(job, COPY_DST_STRIDES + d);
    }
  }
}
