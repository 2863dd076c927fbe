// @gpt/diffusion: Gaussian diffusion for any denoiser written with @gpt/tensor: float64 beta
// schedules and coefficients, the forward process, DDPM and DDIM sampling (each loop also as
// an async generator that yields every step), respacing and training-timestep samplers.
// Names follow openai/guided-diffusion (camelCased).

export {
  BETA_SCHEDULES,
  betasForAlphaBar,
  cosineBetaSchedule,
  getNamedBetaSchedule,
  linearBetaSchedule,
  type BetaSchedule,
  type BetaScheduleName,
} from './beta-schedules.js';
export { ModelMeanType, ModelVarType, type DenoisedFn, type DiffusionModel } from './model-types.js';
export { computeCoefficients, cumulativeProduct, type DiffusionCoefficients } from './diffusion-coefficients.js';
export { extractIntoTensor } from './extract-into-tensor.js';
export {
  GaussianDiffusion,
  staticThreshold,
  type DdimOptions,
  type DenoiseOptions,
  type GaussianDiffusionOptions,
  type LoopOptions,
  type PMeanVariance,
  type SampleResult,
  type SampleStep,
  type StepOptions,
  type TrainingLossOptions,
} from './gaussian-diffusion.js';
export { spaceTimesteps } from './space-timesteps.js';
export { SpacedDiffusion } from './spaced-diffusion.js';
export { createDiffusion, type CreateDiffusionOptions } from './create-diffusion.js';
export {
  createNamedScheduleSampler,
  LossAwareSampler,
  LossSecondMomentResampler,
  ScheduleSampler,
  UniformSampler,
  type LossSecondMomentState,
  type ScheduleSamplerName,
  type TimestepSample,
} from './timestep-samplers.js';
export type { SeedOptions } from './random-source.js';
