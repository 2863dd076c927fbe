// Every numeric tolerance of the tensor tests, in one place. A value passes when
//   |actual - expected| <= atol + rtol * |expected|
// (NaN matches only NaN, infinities only themselves). Forward tolerances are
// multiplied by the device entry's toleranceScale (GPU transcendental functions
// are less exact than V8's), gradient tolerances too: they compare float32
// backward passes against float64 finite differences.

export interface Tolerance {
  readonly rtol: number;
  readonly atol: number;
}

/** Forward tolerance classes; each conformance case names one. */
export const FORWARD = {
  /** Data movement, comparisons, casts, integer math and the RNG's uniform bits: no rounding allowed. */
  exact: { rtol: 0, atol: 0 },
  /** One float32 rounding of an exact result (add, mul, ...): ~6e-8 relative. */
  rounding: { rtol: 1e-6, atol: 1e-7 },
  /** exp, log, erf, pow, ... of float32 inputs: a few ulp, plus the erf fit's 1.2e-7. */
  transcendental: { rtol: 2e-6, atol: 1e-6 },
  /** Sums, products and normalizations of up to a few hundred float32 terms of size ~1. */
  accumulation: { rtol: 1e-5, atol: 1e-5 },
} as const satisfies Record<string, Tolerance>;

export type ForwardClass = keyof typeof FORWARD;

/**
 * Gradient checks: library backward() (float32) against central differences of the
 * float64 reference. `atol` is relative to the largest |gradient| of the tensor, so
 * large and small gradients are judged alike.
 */
export const GRADIENT: Tolerance = { rtol: 1e-4, atol: 2e-5 };

/** Finite-difference step in float64 (truncation ~h^2, cancellation ~1e-16/h). */
export const FD_STEP = 1e-6;

export function scaled(t: Tolerance, scale = 1): Tolerance {
  return { rtol: t.rtol * scale, atol: t.atol * scale };
}

/** Whether `actual` is within `t` of `expected`. */
export function withinTolerance(actual: number, expected: number, t: Tolerance): boolean {
  if (Number.isNaN(expected) || Number.isNaN(actual)) return Number.isNaN(expected) && Number.isNaN(actual);
  if (!Number.isFinite(expected) || !Number.isFinite(actual)) return actual === expected;
  return Math.abs(actual - expected) <= t.atol + t.rtol * Math.abs(expected);
}
