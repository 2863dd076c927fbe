// The float64 coefficient tables of a Gaussian diffusion, one entry per timestep, computed
// once from the betas (Ho et al. 2020 eq. 4-7; names as in guided-diffusion, camelCased).

import { ModelVarType } from './model-types.js';

export interface DiffusionCoefficients {
  betas: Float64Array;
  /** alphaBar_t = prod_{s <= t} (1 - beta_s) */
  alphasCumprod: Float64Array;
  /** alphaBar_{t-1}, with alphaBar_{-1} = 1 */
  alphasCumprodPrev: Float64Array;
  /** alphaBar_{t+1}, with alphaBar_T = 0 */
  alphasCumprodNext: Float64Array;
  sqrtAlphasCumprod: Float64Array;
  sqrtAlphasCumprodPrev: Float64Array;
  sqrtOneMinusAlphasCumprod: Float64Array;
  logOneMinusAlphasCumprod: Float64Array;
  sqrtRecipAlphasCumprod: Float64Array;
  sqrtRecipm1AlphasCumprod: Float64Array;
  /** beta tilde_t, the variance of q(x_{t-1} | x_t, x_0); 0 at t = 0 */
  posteriorVariance: Float64Array;
  /** log beta tilde_t with the t = 0 entry (log 0) replaced by the t = 1 entry */
  posteriorLogVarianceClipped: Float64Array;
  /** posterior mean = coef1 * x_0 + coef2 * x_t */
  posteriorMeanCoef1: Float64Array;
  posteriorMeanCoef2: Float64Array;
}

/** prod_{s <= t} values_s for every t. */
export function cumulativeProduct(values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length);
  let product = 1;
  for (let i = 0; i < values.length; i++) {
    product *= values[i]!;
    out[i] = product;
  }
  return out;
}

/** Checks that betas form a valid schedule and returns them as a fresh Float64Array. */
export function validateBetas(where: string, betas: ArrayLike<number>): Float64Array {
  if (betas.length < 1) throw new Error(`${where}: betas must hold at least one value`);
  const out = Float64Array.from(betas);
  for (let i = 0; i < out.length; i++) {
    const beta = out[i]!;
    if (!(beta > 0 && beta <= 1)) throw new Error(`${where}: betas[${i}] = ${beta} is outside (0, 1]`);
  }
  return out;
}

const map = (values: Float64Array, f: (v: number, i: number) => number): Float64Array => values.map(f);

/**
 * Every coefficient from the betas. `alphasCumprod` may be supplied when known exactly (a
 * respaced process takes the original process's values, so respacing over all steps
 * reproduces the original bit for bit); otherwise it is the cumulative product of 1 - beta.
 */
export function computeCoefficients(betas: Float64Array, alphasCumprod = cumulativeProduct(map(betas, (b) => 1 - b))): DiffusionCoefficients {
  const T = betas.length;
  const ac = alphasCumprod;
  const acPrev = map(ac, (_, i) => (i === 0 ? 1 : ac[i - 1]!));
  const acNext = map(ac, (_, i) => (i === T - 1 ? 0 : ac[i + 1]!));
  const posteriorVariance = map(betas, (b, i) => (b * (1 - acPrev[i]!)) / (1 - ac[i]!));
  // The posterior variance is 0 at t = 0; its log takes the t = 1 value there (as in Ho et al.).
  const clippedAt0 = T > 1 ? posteriorVariance[1]! : posteriorVariance[0]!;
  return {
    betas,
    alphasCumprod: ac,
    alphasCumprodPrev: acPrev,
    alphasCumprodNext: acNext,
    sqrtAlphasCumprod: map(ac, Math.sqrt),
    sqrtAlphasCumprodPrev: map(acPrev, Math.sqrt),
    sqrtOneMinusAlphasCumprod: map(ac, (a) => Math.sqrt(1 - a)),
    logOneMinusAlphasCumprod: map(ac, (a) => Math.log(1 - a)),
    sqrtRecipAlphasCumprod: map(ac, (a) => Math.sqrt(1 / a)),
    sqrtRecipm1AlphasCumprod: map(ac, (a) => Math.sqrt(1 / a - 1)),
    posteriorVariance,
    posteriorLogVarianceClipped: map(posteriorVariance, (v, i) => Math.log(i === 0 ? clippedAt0 : v)),
    posteriorMeanCoef1: map(betas, (b, i) => (b * Math.sqrt(acPrev[i]!)) / (1 - ac[i]!)),
    posteriorMeanCoef2: map(betas, (b, i) => ((1 - acPrev[i]!) * Math.sqrt(1 - b)) / (1 - ac[i]!)),
  };
}

/** The variance (and its log) that p(x_{t-1} | x_t) uses for a fixed variance type. */
export function modelVariance(c: DiffusionCoefficients, varType: ModelVarType): { variance: Float64Array; logVariance: Float64Array } {
  switch (varType) {
    case ModelVarType.FIXED_SMALL:
      return { variance: c.posteriorVariance, logVariance: c.posteriorLogVarianceClipped };
    case ModelVarType.FIXED_LARGE: {
      // beta_t, but at t = 0 the posterior variance at t = 1: beta_0 alone would give a
      // needlessly poor decoder likelihood (guided-diffusion's choice, kept by G.pt).
      const atZero = c.betas.length > 1 ? c.posteriorVariance[1]! : c.betas[0]!;
      const variance = map(c.betas, (b, i) => (i === 0 ? atZero : b));
      return { variance, logVariance: map(variance, Math.log) };
    }
    default:
      throw new Error(`modelVariance: unknown model variance type "${String(varType)}" (known: ${Object.values(ModelVarType).join(', ')})`);
  }
}
