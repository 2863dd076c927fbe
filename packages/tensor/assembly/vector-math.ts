// Float32 transcendental functions on four lanes, for the elementwise kernels.
// exp follows Cephes' expf (range reduction by ln 2, degree-6 polynomial, ~1 ulp);
// erf is the same Numerical Recipes erfc fit that src/expr.ts evaluates in float64
// (fractional error < 1.2e-7), here evaluated in float32. Polynomials use Estrin's
// scheme rather than Horner's: shorter dependency chains, same coefficients.
//
// Constants are read from a static table with load-and-splat (one instruction each):
// V8 rebuilds a v128.const from immediates on every use inside a loop, which made
// these functions several times slower.

const EXP_MAX: f32 = 88.72283935546875;
const EXP_MIN: f32 = -87.33654022216797;
/** 1.5 * 2^23: adding it rounds a float32 of magnitude < 2^22 to an integer in the low mantissa bits. */
const ROUNDER: f32 = 12582912;

const K = memory.data<f32>([
  1.44269504088896341, // 0: log2(e)
  ROUNDER, // 1
  0.693359375, // 2: ln 2, high part
  -2.12194440e-4, // 3: ln 2, low part
  1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1, // 4-9: exp polynomial
  1, // 10
  EXP_MIN, // 11
  EXP_MAX, // 12
  Infinity, // 13
  0, // 14
  0.5, // 15
  // 16-25: erfc fit, highest degree first
  0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223,
  0.7071067811865476, // 26: 1/sqrt(2)
  0.3989422804014327, // 27: 1/sqrt(2 pi)
  -0.5, // 28
  // 29-35: numerator of GELU's erf, in s = u^2 (src/expr.ts: GELU_ERF_P), highest degree first
  1.9925376903984215e-08, -1.9578553747123806e-06, 0.00014184252358973026, 0.003701202105730772, 0.050572048872709274, 0.1999143362045288,
  1.1283791065216064,
  // 36-39: its denominator (GELU_ERF_Q) without the constant 1, highest degree first
  0.0009559456375427544, 0.014352374710142612, 0.11499426513910294, 0.5105011463165283,
  3.92, // 40: GELU_ERF_EDGE
  -0.0, // 41: the sign bit
  // 42-48: GELU's derivative: 0.5 erfc(z) = t P(t) e^(-z^2) with t = 1 / (1 + 0.39 z), z >= 0; 42 is
  // 0.39, 43-48 P's coefficients (already halved), highest degree first. A weighted minimax fit
  // (scripts/fixtures/gelu_erfc_fit.py): 8.3e-9 absolute in float64, ~2.2e-7 in float32 evaluation.
  0.39,
  -0.11376847370546432, 0.44333182151250625, -0.31769954850073785, 0.3247792220822281, 0.04569439873840586, 0.11766257902486797,
]);
const EXPONENT_BIAS = memory.data<i32>([127]);

@inline function k(index: i32): v128 {
  return v128.load32_splat(K + (<usize>index << 2));
}

/**
 * e^r for the reduced argument r = xc - n ln 2 (|r| <= ln 2 / 2), shared by expV and
 * expNonPositiveV: ln 2 in two parts (k(2) + k(3)) keeps r exact, then a degree-5
 * polynomial by Estrin's scheme (independent pairs, then powers of z).
 */
@inline function expReducedV(xc: v128, n: v128): v128 {
  let r = f32x4.sub(xc, f32x4.mul(n, k(2)));
  r = f32x4.sub(r, f32x4.mul(n, k(3)));
  const z = f32x4.mul(r, r);
  const lo = f32x4.add(f32x4.mul(k(8), r), k(9));
  const mid = f32x4.add(f32x4.mul(k(6), r), k(7));
  const hi = f32x4.add(f32x4.mul(k(4), r), k(5));
  const p = f32x4.add(lo, f32x4.mul(z, f32x4.add(mid, f32x4.mul(z, hi))));
  return f32x4.add(f32x4.add(f32x4.mul(p, z), r), k(10));
}

@inline export function expV(x: v128): v128 {
  // pmin/pmax are single instructions on x64 (min/max are NaN-aware sequences), and
  // they pass a NaN x through, so NaN needs no extra select.
  const xc = f32x4.pmin(f32x4.pmax(x, k(11)), k(12));
  // n = round(x / ln 2), as a float and as an integer, without nearest/trunc_sat.
  const t = f32x4.add(f32x4.mul(xc, k(0)), k(1));
  const n = f32x4.sub(t, k(1));
  const ni = i32x4.sub(t, k(1));
  const p = expReducedV(xc, n);
  // 2^n for n in [-126, 128] as 2^(n >> 1) * 2^(n - (n >> 1)): both factors are normal floats.
  const n1 = i32x4.shr_s(ni, 1);
  const n2 = i32x4.sub(ni, n1);
  const bias = v128.load32_splat(EXPONENT_BIAS);
  const s1 = i32x4.shl(i32x4.add(n1, bias), 23);
  const s2 = i32x4.shl(i32x4.add(n2, bias), 23);
  let result = f32x4.mul(f32x4.mul(p, s1), s2);
  result = v128.bitselect(k(13), result, f32x4.gt(x, k(12)));
  return v128.bitselect(k(14), result, f32x4.lt(x, k(11)));
}

@inline export function erfV(x: v128): v128 {
  const z = f32x4.abs(x);
  const one = k(10);
  const t = f32x4.div(one, f32x4.add(one, f32x4.mul(k(15), z)));
  // The degree-9 polynomial by Estrin's scheme: five independent pairs combined with
  // t^2, t^4 and t^8. Horner's nine dependent multiply-adds made erf latency-bound.
  const t2 = f32x4.mul(t, t);
  const t4 = f32x4.mul(t2, t2);
  const q0 = f32x4.add(f32x4.mul(k(24), t), k(25));
  const q1 = f32x4.add(f32x4.mul(k(22), t), k(23));
  const q2 = f32x4.add(f32x4.mul(k(20), t), k(21));
  const q3 = f32x4.add(f32x4.mul(k(18), t), k(19));
  const q4 = f32x4.add(f32x4.mul(k(16), t), k(17));
  const low = f32x4.add(q0, f32x4.mul(q1, t2));
  const high = f32x4.add(q2, f32x4.mul(q3, t2));
  const p = f32x4.add(f32x4.add(low, f32x4.mul(high, t4)), f32x4.mul(q4, f32x4.mul(t4, t4)));
  const erfc = f32x4.mul(t, expV(f32x4.add(f32x4.neg(f32x4.mul(z, z)), p)));
  return v128.bitselect(f32x4.sub(one, erfc), f32x4.sub(erfc, one), f32x4.ge(x, k(14)));
}

// GELU as src/expr.ts defines it (gelu): erf(u) for u = x / sqrt 2 as a rational function
// u P(u^2) / Q(u^2) (no exp, one division), +-1 from |u| >= 3.92 on, where erf rounds to +-1
// in float32. Its derivative (geluGradV, below) needs e^(-x^2 / 2) anyway, so it takes erf
// from an erfc fit with that same exponential instead: within 1.7e-7 of float64 over
// [-10, 10] where expr.ts's geluGrad is within 1e-7 (TS) and the rational one was 2.3e-7.

@inline function geluErfV(u: v128): v128 {
  const s = f32x4.mul(u, u);
  // Horner's scheme: the kernels' loop runs 64 independent vectors, which hides its latency.
  let p = f32x4.add(f32x4.mul(k(29), s), k(30));
  p = f32x4.add(f32x4.mul(p, s), k(31));
  p = f32x4.add(f32x4.mul(p, s), k(32));
  p = f32x4.add(f32x4.mul(p, s), k(33));
  p = f32x4.add(f32x4.mul(p, s), k(34));
  p = f32x4.add(f32x4.mul(p, s), k(35));
  let q = f32x4.add(f32x4.mul(k(36), s), k(37));
  q = f32x4.add(f32x4.mul(q, s), k(38));
  q = f32x4.add(f32x4.mul(q, s), k(39));
  q = f32x4.add(f32x4.mul(q, s), k(10));
  const r = f32x4.div(f32x4.mul(u, p), q);
  const saturated = v128.or(v128.and(u, k(41)), k(10)); // +-1 with u's sign
  return v128.bitselect(r, saturated, f32x4.lt(f32x4.abs(u), k(40)));
}

/** x Phi(x) = (0.5 x)(1 + erf(x / sqrt 2)). */
@inline export function geluV(x: v128): v128 {
  return f32x4.mul(f32x4.mul(k(15), x), f32x4.add(k(10), geluErfV(f32x4.mul(x, k(26)))));
}

/**
 * e^a for a <= 0 (or NaN), as expV but without its overflow path: a is clamped at EXP_MIN, so
 * n = round(a / ln 2) lies in [-126, 0] and 2^n is one normal float; below EXP_MIN the result is 0.
 */
@inline function expNonPositiveV(a: v128): v128 {
  const xc = f32x4.pmax(a, k(11));
  const t = f32x4.add(f32x4.mul(xc, k(0)), k(1));
  const n = f32x4.sub(t, k(1));
  const ni = i32x4.sub(t, k(1));
  const p = expReducedV(xc, n);
  const scale = i32x4.shl(i32x4.add(ni, v128.load32_splat(EXPONENT_BIAS)), 23);
  return v128.andnot(f32x4.mul(p, scale), f32x4.lt(a, k(11)));
}

/**
 * Phi(x) + x phi(x), GELU's derivative, with one exponential: e = e^(-x^2 / 2) is both phi's
 * and, for z = |x| / sqrt 2, erfc's factor e^(-z^2), so Phi(-|x|) = 0.5 erfc(z) = t P(t) e. No
 * saturation is needed: e underflows to 0 and t to 0 far out.
 */
@inline export function geluGradV(x: v128): v128 {
  const e = expNonPositiveV(f32x4.mul(k(28), f32x4.mul(x, x)));
  const t = f32x4.div(k(10), f32x4.add(k(10), f32x4.mul(k(42), f32x4.mul(f32x4.abs(x), k(26)))));
  // Horner's scheme: the kernels' loop runs 64 independent vectors, which hides its latency.
  let p = f32x4.add(f32x4.mul(k(43), t), k(44));
  p = f32x4.add(f32x4.mul(p, t), k(45));
  p = f32x4.add(f32x4.mul(p, t), k(46));
  p = f32x4.add(f32x4.mul(p, t), k(47));
  p = f32x4.add(f32x4.mul(p, t), k(48));
  const tail = f32x4.mul(f32x4.mul(t, p), e); // Phi(-|x|)
  const cdf = v128.bitselect(f32x4.sub(k(10), tail), tail, f32x4.ge(x, k(14))); // Phi(x)
  return f32x4.add(cdf, f32x4.mul(x, f32x4.mul(k(27), e)));
}
