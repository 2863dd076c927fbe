// Row kernels over the last axis, in float64 like the TypeScript kernels
// (src/cpu/nn.ts), so results agree to float32 rounding: layerNorm (no affine part),
// its backward pass, softmax and logSoftmax. Also sums over the middle dim of [outer, reduced, inner]
// (any contiguous run of axes), accumulated in float64. All of them run on f64x2
// lanes (four float32 loaded, widened into two float64 pairs): rows are short and
// sit in L1, so the scalar float64 loops were bound by add latency and by the
// standard library's scalar exp, not by memory. Tasks are ranges of rows (of outer
// indices for sums). A sum over leading axes (one outer index) stays one task: it
// streams through memory as fast as one core can read, and splitting it over
// threads (by column strips or by blocks of rows with partial sums) measured no faster.

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
/** layerNorm backward: address of the incoming gradient (same layout as ROWS_SRC, which holds x). */
export const ROWS_GRAD: i32 = JOB_ARGS + 7;
export const ROW_LAYER_NORM: i32 = 1;
export const ROW_SOFTMAX: i32 = 2;
export const ROW_LOG_SOFTMAX: i32 = 3;
export const ROW_SUM: i32 = 4;
export const ROW_LAYER_NORM_BACKWARD: i32 = 5;

/** 1.5 * 2^52: adding it rounds a float64 of magnitude < 2^51 to an integer in the low mantissa bits. */
const ROUNDER: f64 = 6755399441055744;
/** exp arguments below this give 0 (float64 results there are subnormal, and 0 once rounded to float32). */
const EXP_MIN: f64 = -708;

// Constants loaded with load-and-splat (V8 rebuilds a v128.const on every use in a loop).
const K = memory.data<f64>([
  1.4426950408889634, // 0: log2(e)
  ROUNDER, // 1
  6.93147180369123816490e-1, // 2: ln 2, high part (low bits zero, so n * it is exact)
  1.90821492927058770002e-10, // 3: ln 2, low part
  EXP_MIN, // 4
  0, // 5
  // 6-14: exp(r) on |r| <= ln2/2, degree 8, highest first: a Chebyshev fit with relative
  // error 1.1e-12, far below float32 rounding (6e-8), at 3/4 the work of a float64-exact one.
  2.4884349681005906e-05, 0.0001991587841662306, 0.0013888801981650205, 0.008333266076532562, 0.04166666703905005,
  0.1666666689115713, 0.4999999999944193, 0.9999999999797708, 1.0000000000000135,
]);
const BIAS = memory.data<i64>([1023]);

@inline function k(index: i32): v128 {
  return v128.load64_splat(K + (<usize>index << 3));
}

/**
 * exp on two float64 lanes for arguments <= 0 (softmax's x - max), to ~1e-12
 * relative; NaN stays NaN, arguments below EXP_MIN give 0.
 */
@inline function expD(x: v128): v128 {
  const xc = f64x2.pmax(x, k(4)); // pmax keeps a NaN x
  // n = round(x / ln 2) as a float, and as an integer from the same bits.
  const t = f64x2.add(f64x2.mul(xc, k(0)), k(1));
  const n = f64x2.sub(t, k(1));
  const ni = i64x2.sub(t, k(1));
  const r = f64x2.sub(f64x2.sub(xc, f64x2.mul(n, k(2))), f64x2.mul(n, k(3)));
  let p = k(6);
  p = f64x2.add(f64x2.mul(p, r), k(7));
  p = f64x2.add(f64x2.mul(p, r), k(8));
  p = f64x2.add(f64x2.mul(p, r), k(9));
  p = f64x2.add(f64x2.mul(p, r), k(10));
  p = f64x2.add(f64x2.mul(p, r), k(11));
  p = f64x2.add(f64x2.mul(p, r), k(12));
  p = f64x2.add(f64x2.mul(p, r), k(13));
  p = f64x2.add(f64x2.mul(p, r), k(14));
  // 2^n with n in [-1022, 0]: a normal float64 built from its exponent bits.
  const scale = i64x2.shl(i64x2.add(ni, v128.load64_splat(BIAS)), 52);
  return v128.bitselect(k(5), f64x2.mul(p, scale), f64x2.lt(x, k(4)));
}

@inline function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

@inline function low(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

@inline function high(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<i32>(v, v, 2, 3, 0, 1));
}

/** Four float32 from two float64 pairs. */
@inline function narrow(lo: v128, hi: v128): v128 {
  return v128.shuffle<i32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/** Two float32 at p, widened. */
@inline function load2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

/** Two float64 lanes, narrowed, stored as two float32 at p. */
@inline function store2(p: usize, v: v128): void {
  v128.store64_lane(p, f32x4.demote_f64x2_zero(v), 0);
}

@inline function lanes(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/** sum_i (src[i] - shift)^p for p = 1 or 2 in float64, four independent accumulators (add latency, not throughput, bounds one). */
function rowSum(src: usize, n: i32, shift: f64, square: bool): f64 {
  const s = f64x2.splat(shift);
  let a0 = f64x2.splat(0);
  let a1 = a0;
  let a2 = a0;
  let a3 = a0;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const v = v128.load(at(src, i));
    const w = v128.load(at(src, i + 4));
    let c0 = f64x2.sub(low(v), s);
    let c1 = f64x2.sub(high(v), s);
    let c2 = f64x2.sub(low(w), s);
    let c3 = f64x2.sub(high(w), s);
    if (square) {
      c0 = f64x2.mul(c0, c0);
      c1 = f64x2.mul(c1, c1);
      c2 = f64x2.mul(c2, c2);
      c3 = f64x2.mul(c3, c3);
    }
    a0 = f64x2.add(a0, c0);
    a1 = f64x2.add(a1, c1);
    a2 = f64x2.add(a2, c2);
    a3 = f64x2.add(a3, c3);
  }
  let total = lanes(f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3)));
  for (; i < n; i++) {
    const c = <f64>load<f32>(at(src, i)) - shift;
    total += square ? c * c : c;
  }
  return total;
}

function layerNormRow(src: usize, dst: usize, d: i32, eps: f64): void {
  const mean = rowSum(src, d, 0, false) / d;
  const rstd = 1 / Math.sqrt(rowSum(src, d, mean, true) / d + eps);
  const m = f64x2.splat(mean);
  const r = f64x2.splat(rstd);
  let i = 0;
  for (; i + 4 <= d; i += 4) {
    const v = v128.load(at(src, i));
    v128.store(at(dst, i), narrow(f64x2.mul(f64x2.sub(low(v), m), r), f64x2.mul(f64x2.sub(high(v), m), r)));
  }
  for (; i < d; i++) store<f32>(at(dst, i), <f32>((<f64>load<f32>(at(src, i)) - mean) * rstd));
}

/** dx = rstd (g - mean(g) - y mean(g y)) for one row, with y = (x - mean) rstd recomputed from x. */
function layerNormBackwardRow(src: usize, grad: usize, dst: usize, d: i32, eps: f64): void {
  const mean = rowSum(src, d, 0, false) / d;
  const rstd = 1 / Math.sqrt(rowSum(src, d, mean, true) / d + eps);
  const m = f64x2.splat(mean);
  const r = f64x2.splat(rstd);
  let g0 = f64x2.splat(0);
  let g1 = g0;
  let gy0 = g0;
  let gy1 = g0;
  let i = 0;
  for (; i + 4 <= d; i += 4) {
    const v = v128.load(at(src, i));
    const g = v128.load(at(grad, i));
    const gl = low(g);
    const gh = high(g);
    g0 = f64x2.add(g0, gl);
    g1 = f64x2.add(g1, gh);
    gy0 = f64x2.add(gy0, f64x2.mul(gl, f64x2.mul(f64x2.sub(low(v), m), r)));
    gy1 = f64x2.add(gy1, f64x2.mul(gh, f64x2.mul(f64x2.sub(high(v), m), r)));
  }
  let gSum = lanes(f64x2.add(g0, g1));
  let gySum = lanes(f64x2.add(gy0, gy1));
  for (let j = i; j < d; j++) {
    const g = <f64>load<f32>(at(grad, j));
    gSum += g;
    gySum += g * ((<f64>load<f32>(at(src, j)) - mean) * rstd);
  }
  const gMean = gSum / d;
  const gyMean = gySum / d;
  const gm = f64x2.splat(gMean);
  const gym = f64x2.splat(gyMean);
  for (i = 0; i + 4 <= d; i += 4) {
    const v = v128.load(at(src, i));
    const g = v128.load(at(grad, i));
    const lo = f64x2.mul(r, f64x2.sub(f64x2.sub(low(g), gm), f64x2.mul(f64x2.mul(f64x2.sub(low(v), m), r), gym)));
    const hi = f64x2.mul(r, f64x2.sub(f64x2.sub(high(g), gm), f64x2.mul(f64x2.mul(f64x2.sub(high(v), m), r), gym)));
    v128.store(at(dst, i), narrow(lo, hi));
  }
  for (; i < d; i++) {
    const y = (<f64>load<f32>(at(src, i)) - mean) * rstd;
    store<f32>(at(dst, i), <f32>(rstd * (<f64>load<f32>(at(grad, i)) - gMean - y * gyMean)));
  }
}

/**
 * softmax (exps kept in `scratch`, d float64, so exp runs once per element) or
 * logSoftmax of one row. Quads, then a pair, then a single element: every element
 * goes through the same expD.
 */
function softmaxRow(src: usize, dst: usize, d: i32, log: bool, scratch: usize): void {
  // The max is exact in float32; f32x4.max propagates NaN like Math.max.
  let mv = v128.load32_splat(src);
  let i = 0;
  for (; i + 4 <= d; i += 4) mv = f32x4.max(mv, v128.load(at(src, i)));
  let top = <f64>max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (; i < d; i++) top = Math.max(top, <f64>load<f32>(at(src, i)));
  if (top == -Infinity) top = 0; // a row of -inf: keep exp() finite, as the TS kernel does
  const m = f64x2.splat(top);
  let a0 = f64x2.splat(0);
  let a1 = a0;
  for (i = 0; i + 4 <= d; i += 4) {
    const v = v128.load(at(src, i));
    const e0 = expD(f64x2.sub(low(v), m));
    const e1 = expD(f64x2.sub(high(v), m));
    const e = scratch + (<usize>i << 3);
    v128.store(e, e0);
    v128.store(e, e1, 16);
    a0 = f64x2.add(a0, e0);
    a1 = f64x2.add(a1, e1);
  }
  if (i + 2 <= d) {
    const e0 = expD(f64x2.sub(load2(at(src, i)), m));
    v128.store(scratch + (<usize>i << 3), e0);
    a0 = f64x2.add(a0, e0);
    i += 2;
  }
  if (i < d) {
    // One element, in lane 0 (lane 1 is exp(-inf) = 0).
    const e0 = expD(f64x2.replace_lane(f64x2.splat(-Infinity), 0, <f64>load<f32>(at(src, i)) - top));
    v128.store(scratch + (<usize>i << 3), e0);
    a0 = f64x2.add(a0, e0);
  }
  const sum = lanes(f64x2.add(a0, a1));
  if (log) {
    const logSum = Math.log(sum) + top;
    const l = f64x2.splat(logSum);
    for (i = 0; i + 4 <= d; i += 4) {
      const v = v128.load(at(src, i));
      v128.store(at(dst, i), narrow(f64x2.sub(low(v), l), f64x2.sub(high(v), l)));
    }
    for (; i < d; i++) store<f32>(at(dst, i), <f32>(<f64>load<f32>(at(src, i)) - logSum));
  } else {
    // Multiplying by 1 / sum instead of dividing differs by at most a float64 ulp.
    const s = f64x2.splat(1 / sum);
    for (i = 0; i + 4 <= d; i += 4) {
      const e = scratch + (<usize>i << 3);
      v128.store(at(dst, i), narrow(f64x2.mul(v128.load(e), s), f64x2.mul(v128.load(e, 16), s)));
    }
    if (i + 2 <= d) {
      store2(at(dst, i), f64x2.mul(v128.load(scratch + (<usize>i << 3)), s));
      i += 2;
    }
    if (i < d) store<f32>(at(dst, i), <f32>(load<f64>(scratch + (<usize>i << 3)) * (1 / sum)));
  }
}

/** acc[j] += src[r * width + j] (float32) for r < rows, j < width, rows in order, into float64 accumulators. */
function addRows(acc: usize, src: usize, rows: i32, width: i32): void {
  const vectors = width & ~3;
  for (let r = 0; r < rows; r++) {
    const row = at(src, r * width);
    for (let j = 0; j < vectors; j += 4) {
      const v = v128.load(at(row, j));
      const a = acc + (<usize>j << 3);
      v128.store(a, f64x2.add(v128.load(a), low(v)));
      v128.store(a, f64x2.add(v128.load(a, 16), high(v)), 16);
    }
    for (let j = vectors; j < width; j++) {
      const a = acc + (<usize>j << 3);
      store<f64>(a, load<f64>(a) + <f64>load<f32>(at(row, j)));
    }
  }
}

/** dst[j] = acc[j] rounded to float32. */
function narrowRow(dst: usize, acc: usize, width: i32): void {
  let j = 0;
  for (; j + 4 <= width; j += 4) {
    const a = acc + (<usize>j << 3);
    v128.store(at(dst, j), narrow(v128.load(a), v128.load(a, 16)));
  }
  for (; j < width; j++) store<f32>(at(dst, j), <f32>load<f64>(acc + (<usize>j << 3)));
}

/** Sums over the reduced dim for a range of outer indices; `scratch` holds inner float64 accumulators. */
function sumTask(job: usize, t: i32, scratch: usize): void {
  const reduced = jobWord(job, ROWS_LENGTH);
  const src = <usize>jobWord(job, ROWS_SRC);
  const dst = <usize>jobWord(job, ROWS_DST);
  const inner = jobWord(job, ROWS_PARAM);
  const perTask = jobWord(job, ROWS_PER_TASK);
  const last = min(jobWord(job, ROWS_COUNT), (t + 1) * perTask);
  for (let o = t * perTask; o < last; o++) {
    const from = at(src, o * reduced * inner);
    if (inner == 1) {
      store<f32>(at(dst, o), <f32>rowSum(from, reduced, 0, false));
    } else {
      memory.fill(scratch, 0, <usize>inner << 3);
      addRows(scratch, from, reduced, inner);
      narrowRow(at(dst, o * inner), scratch, inner);
    }
  }
}

/** Runs task `t`; sums use `scratch` (inner * 8 bytes) for their float64 accumulators, softmax (row length * 8 bytes) for its exps. */
export function rowsTask(job: usize, t: i32, scratch: usize): void {
  const op = jobWord(job, ROWS_OP);
  if (op == ROW_SUM) {
    sumTask(job, t, scratch);
    return;
  }
  const count = jobWord(job, ROWS_COUNT);
  const d = jobWord(job, ROWS_LENGTH);
  const src = <usize>jobWord(job, ROWS_SRC);
  const dst = <usize>jobWord(job, ROWS_DST);
  const perTask = jobWord(job, ROWS_PER_TASK);
  const param = jobWord(job, ROWS_PARAM);
  const last = min(count, (t + 1) * perTask);
  for (let row = t * perTask; row < last; row++) {
    const s = at(src, row * d);
    const o = at(dst, row * d);
    if (op == ROW_LAYER_NORM) layerNormRow(s, o, d, <f64>reinterpret<f32>(param));
    else if (op == ROW_LAYER_NORM_BACKWARD) layerNormBackwardRow(s, at(<usize>jobWord(job, ROWS_GRAD), row * d), o, d, <f64>reinterpret<f32>(param));
    else softmaxRow(s, o, d, op == ROW_LOG_SOFTMAX, scratch);
  }
}
