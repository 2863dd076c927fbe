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

/** dst[o, j] = sum_r src[o, r, j] for one outer index, in float64 pairs. */
function sumBlock(src: usize, dst: usize, reduced: i32, inner: i32): void {
  let j = 0;
  for (; j + 4 <= inner; j += 4) {
    let lo = f64x2.splat(0);
    let hi = f64x2.splat(0);
    for (let r = 0; r < reduced; r++) {
      const v = v128.load(at(src, r * inner + j));
      lo = f64x2.add(lo, f64x2.promote_low_f32x4(v));
      hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<i32>(v, v, 2, 3, 0, 1)));
    }
    v128.store(at(dst, j), v128.shuffle<i32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5));
  }
  for (; j < inner; j++) {
    let acc: f64 = 0;
    for (let r = 0; r < reduced; r++) acc += <f64>load<f32>(at(src, r * inner + j));
    store<f32>(at(dst, j), <f32>acc);
  }
}

export function rowsTask(job: usize, t: i32): void {
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
      sumBlock(at(src, row * d * param), at(dst, row * param), d, param);
      continue;
    }
    const s = at(src, row * d);
    const o = at(dst, row * d);
    if (op == ROW_LAYER_NORM) layerNormRow(s, o, d, <f64>reinterpret<f32>(param));
    else softmaxRow(s, o, d, op == ROW_LOG_SOFTMAX);
  }
}
