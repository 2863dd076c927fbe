// Row kernels over the last axis, in float64 like the TypeScript kernels
// (src/cpu/nn.ts), so results agree to float32 rounding: layerNorm (no affine part),
// softmax and logSoftmax. Also sums over the middle dim of [outer, reduced, inner]
// (any contiguous run of axes), accumulated in float64. Tasks are ranges of rows
// (of outer indices for sums).

import { JOB_ARGS, jobWord } from './job';

export const ROWS_OP: i32 = JOB_ARGS;
export const ROWS_COUNT: i32 = JOB_ARGS + 1;
/** Row length (layerNorm, softmax); for sums: the reduced size. */
export const ROWS_LENGTH: i32 = JOB_ARGS + 2;
export const ROWS_SRC: i32 = JOB_ARGS + 3;
export const ROWS_DST: i32 = JOB_ARGS + 4;
export const ROWS_PER_TASK: i32 = JOB_ARGS + 5;
/** layerNorm's epsilon as float32 bits; for sums: the inner size. */
export const ROWS_PARAM: i32 = JOB_ARGS + 6;

export const ROW_LAYER_NORM: i32 = 1;
export const ROW_SOFTMAX: i32 = 2;
export const ROW_LOG_SOFTMAX: i32 = 3;
export const ROW_SUM: i32 = 4;

@inline function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

function layerNormRow(src: usize, dst: usize, d: i32, eps: f64): void {
  let sum: f64 = 0;
  for (let i = 0; i < d; i++) sum += <f64>load<f32>(at(src, i));
  const mean = sum / d;
  let squares: f64 = 0;
  for (let i = 0; i < d; i++) {
    const c = <f64>load<f32>(at(src, i)) - mean;
    squares += c * c;
  }
  const rstd = 1 / Math.sqrt(squares / d + eps);
  for (let i = 0; i < d; i++) store<f32>(at(dst, i), <f32>((<f64>load<f32>(at(src, i)) - mean) * rstd));
}

function softmaxRow(src: usize, dst: usize, d: i32, log: bool): void {
  let max: f64 = -Infinity;
  for (let i = 0; i < d; i++) max = Math.max(max, <f64>load<f32>(at(src, i)));
  if (max == -Infinity) max = 0; // a row of -inf: keep exp() finite, as the TS kernel does
  let sum: f64 = 0;
  for (let i = 0; i < d; i++) sum += Math.exp(<f64>load<f32>(at(src, i)) - max);
  if (log) {
    const logSum = Math.log(sum) + max;
    for (let i = 0; i < d; i++) store<f32>(at(dst, i), <f32>(<f64>load<f32>(at(src, i)) - logSum));
  } else {
    for (let i = 0; i < d; i++) store<f32>(at(dst, i), <f32>(Math.exp(<f64>load<f32>(at(src, i)) - max) / sum));
  }
}

/**
 * dst[o, j] = sum_r src[o, r, j] for one outer index: rows are added in order into
 * float64 accumulators (`acc`, inner * 8 bytes of scratch), streaming through memory.
 */
function sumBlock(src: usize, dst: usize, reduced: i32, inner: i32, acc: usize): void {
  if (inner == 1) {
    let total: f64 = 0;
    for (let r = 0; r < reduced; r++) total += <f64>load<f32>(at(src, r));
    store<f32>(dst, <f32>total);
    return;
  }
  memory.fill(acc, 0, <usize>inner << 3);
  const vectors = inner & ~3;
  for (let r = 0; r < reduced; r++) {
    const row = at(src, r * inner);
    for (let j = 0; j < vectors; j += 4) {
      const v = v128.load(at(row, j));
      const a = acc + (<usize>j << 3);
      v128.store(a, f64x2.add(v128.load(a), f64x2.promote_low_f32x4(v)));
      v128.store(a, f64x2.add(v128.load(a, 16), f64x2.promote_low_f32x4(v128.shuffle<i32>(v, v, 2, 3, 0, 1))), 16);
    }
    for (let j = vectors; j < inner; j++) {
      const a = acc + (<usize>j << 3);
      store<f64>(a, load<f64>(a) + <f64>load<f32>(at(row, j)));
    }
  }
  for (let j = 0; j < inner; j++) store<f32>(at(dst, j), <f32>load<f64>(acc + (<usize>j << 3)));
}

/** Runs task `t`; sums use `scratch` (inner * 8 bytes) for their float64 accumulators. */
export function rowsTask(job: usize, t: i32, scratch: usize): void {
  const op = jobWord(job, ROWS_OP);
  const count = jobWord(job, ROWS_COUNT);
  const d = jobWord(job, ROWS_LENGTH);
  const src = <usize>jobWord(job, ROWS_SRC);
  const dst = <usize>jobWord(job, ROWS_DST);
  const perTask = jobWord(job, ROWS_PER_TASK);
  const param = jobWord(job, ROWS_PARAM);
  const last = min(count, (t + 1) * perTask);
  for (let row = t * perTask; row < last; row++) {
    if (op == ROW_SUM) {
      sumBlock(at(src, row * d * param), at(dst, row * param), d, param, scratch);
      continue;
    }
    const s = at(src, row * d);
    const o = at(dst, row * d);
    if (op == ROW_LAYER_NORM) layerNormRow(s, o, d, <f64>reinterpret<f32>(param));
    else softmaxRow(s, o, d, op == ROW_LOG_SOFTMAX);
  }
}
