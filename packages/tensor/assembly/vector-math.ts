// Float32 transcendental functions on four lanes, for the elementwise kernels.
// exp follows Cephes' expf (range reduction by ln 2, degree-6 polynomial, ~1 ulp);
// erf is the same Numerical Recipes erfc fit that src/expr.ts evaluates in float64
// (fractional error < 1.2e-7), here evaluated in float32.

const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const EXP_MAX: f32 = 88.72283935546875;
const EXP_MIN: f32 = -87.33654022216797;

@inline export function expV(x: v128): v128 {
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  const z = f32x4.mul(r, r);
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, z), r), f32x4.splat(1));
  // 2^n from exponent bits; n reaches 128 just below EXP_MAX, one more than a float32
  // exponent holds, so that case multiplies by 2^127 and then by 2.
  const n127 = f32x4.min(f32x4.max(n, f32x4.splat(-126)), f32x4.splat(127));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n127), i32x4.splat(127)), 23);
  const extra = v128.bitselect(f32x4.splat(2), f32x4.splat(1), f32x4.gt(n, f32x4.splat(127)));
  let result = f32x4.mul(f32x4.mul(p, scale), extra);
  result = v128.bitselect(f32x4.splat(Infinity), result, f32x4.gt(x, f32x4.splat(EXP_MAX)));
  result = v128.bitselect(f32x4.splat(0), result, f32x4.lt(x, f32x4.splat(EXP_MIN)));
  // NaN in, NaN out (the comparisons above are false for NaN lanes; keep x there).
  return v128.bitselect(x, result, f32x4.ne(x, x));
}

@inline export function erfV(x: v128): v128 {
  const z = f32x4.abs(x);
  const t = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), f32x4.mul(f32x4.splat(0.5), z)));
  let p = f32x4.splat(0.17087277);
  p = f32x4.add(f32x4.mul(t, p), f32x4.splat(-0.82215223));
  p = f32x4.add(f32x4.mul(t, p), f32x4.splat(1.48851587));
  p = f32x4.add(f32x4.mul(t, p), f32x4.splat(-1.13520398));
  p = f32x4.add(f32x4.mul(t, p), f32x4.splat(0.27886807));
  p = f32x4.add(f32x4.mul(t, p), f32x4.splat(-0.18628806));
  p = f32x4.add(f32x4.mul(t, p), f32x4.splat(0.09678418));
  p = f32x4.add(f32x4.mul(t, p), f32x4.splat(0.37409196));
  p = f32x4.add(f32x4.mul(t, p), f32x4.splat(1.00002368));
  p = f32x4.add(f32x4.mul(t, p), f32x4.splat(-1.26551223));
  const erfc = f32x4.mul(t, expV(f32x4.add(f32x4.neg(f32x4.mul(z, z)), p)));
  const one = f32x4.splat(1);
  return v128.bitselect(f32x4.sub(one, erfc), f32x4.sub(erfc, one), f32x4.ge(x, f32x4.splat(0)));
}
