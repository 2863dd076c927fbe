// G.pt's create_diffusion: the usual configurations of a diffusion by a few flags.

import { getNamedBetaSchedule, type BetaScheduleName } from './beta-schedules.js';
import { ModelMeanType, ModelVarType } from './model-types.js';
import { SpacedDiffusion } from './spaced-diffusion.js';
import { spaceTimesteps } from './space-timesteps.js';

export interface CreateDiffusionOptions {
  /** Steps of the trained process. Default 1000. */
  steps?: number;
  /** Beta schedule name. Default "linear". */
  noiseSchedule?: BetaScheduleName | (string & {});
  /** Predict x_0 (START_X, G.pt's setting) instead of epsilon. Default false. */
  predictXstart?: boolean;
  /** FIXED_SMALL instead of FIXED_LARGE (G.pt's setting). Default false. */
  sigmaSmall?: boolean;
  /** Respacing for sampling ("ddim50", "250", [10, 15, 20]); "" keeps every step. Default "". */
  timestepRespacing?: string | readonly number[];
}

/**
 * A SpacedDiffusion (over all steps unless `timestepRespacing` says otherwise; over all steps
 * it is exactly the plain GaussianDiffusion). G.pt: `createDiffusion({ predictXstart: true })`.
 * Learned variances (G.pt's learn_sigma) are not supported: its released models use fixed ones.
 */
export function createDiffusion(options: CreateDiffusionOptions = {}): SpacedDiffusion {
  const steps = options.steps ?? 1000;
  const betas = getNamedBetaSchedule(options.noiseSchedule ?? 'linear', steps);
  const respacing = options.timestepRespacing ?? '';
  const sections = respacing.length === 0 ? [steps] : respacing;
  return new SpacedDiffusion(spaceTimesteps(steps, sections), {
    betas,
    modelMeanType: options.predictXstart ? ModelMeanType.START_X : ModelMeanType.EPSILON,
    modelVarType: options.sigmaSmall ? ModelVarType.FIXED_SMALL : ModelVarType.FIXED_LARGE,
  });
}
