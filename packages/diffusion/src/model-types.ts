// What the model predicts, which variance the reverse process uses, and the model's call shape.

import type { Tensor } from '@gpt/tensor';

/** Which quantity the model outputs (guided-diffusion's ModelMeanType). */
export const ModelMeanType = {
  /** the model predicts x_{t-1} (the posterior mean) */
  PREVIOUS_X: 'PREVIOUS_X',
  /** the model predicts x_0 (G.pt's choice, "predict_xstart") */
  START_X: 'START_X',
  /** the model predicts the noise epsilon */
  EPSILON: 'EPSILON',
} as const;
export type ModelMeanType = (typeof ModelMeanType)[keyof typeof ModelMeanType];

/** Which fixed variance p(x_{t-1} | x_t) uses (guided-diffusion's ModelVarType, fixed kinds only). */
export const ModelVarType = {
  /** sigma_t² = the true posterior variance (beta tilde); its log clipped at t = 0 */
  FIXED_SMALL: 'FIXED_SMALL',
  /** sigma_t² = beta_t, except t = 0, which takes the posterior variance at t = 1 (G.pt's choice) */
  FIXED_LARGE: 'FIXED_LARGE',
} as const;
export type ModelVarType = (typeof ModelVarType)[keyof typeof ModelVarType];

/**
 * A denoiser: given x_t [B, ...], the int32 timesteps t [B] (always indices of the original,
 * unspaced process) and a caller-defined condition, it returns a prediction shaped like x_t
 * (x_0, epsilon or x_{t-1}, as the diffusion's ModelMeanType says). Sync or async.
 *
 * Ownership: the diffusion disposes the returned tensor after use, so return a fresh tensor
 * (not x_t itself, nor a tensor you keep elsewhere).
 */
export type DiffusionModel<Cond = unknown> = (xT: Tensor, t: Tensor, cond: Cond) => Tensor | Promise<Tensor>;

/** Optional processing of the x_0 prediction before it is used (e.g. static thresholding). */
export type DenoisedFn = (predXstart: Tensor) => Tensor;
