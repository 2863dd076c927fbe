// erf in float64 to ~1e-16, so finite differences of the reference (h = 1e-6)
// stay accurate. Uses the all-positive series
//   erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (1*3*...*(2n+1)),
// which has no cancellation; beyond |x| = 6, erf(x) is +-1 in float64.

export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const z = Math.abs(x);
  if (z >= 6) return Math.sign(x);
  let term = z;
  let total = z;
  for (let n = 1; n < 500; n++) {
    term *= (2 * z * z) / (2 * n + 1);
    total += term;
    if (term < total * 1e-17) break;
  }
  return (Math.sign(x) * 2 * Math.exp(-z * z) * total) / Math.sqrt(Math.PI);
}
