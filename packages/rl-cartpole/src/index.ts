// @gpt/rl-cartpole: Gymnasium's CartPole-v1 (single and vectorized over typed arrays), the G.pt
// paper's Gaussian MLP policy and critic, PPO with the paper's recipe, and policy evaluation.

export {
  CARTPOLE,
  CartPoleEnv,
  cartPoleStep,
  cartPoleObservationSpace,
  cartPoleActionSpace,
  type ActionType,
  type BoxSpace,
  type DiscreteSpace,
  type CartPoleOptions,
  type ResetResult,
  type StepResult,
} from './cartpole.js';
export { CartPoleVectorEnv, type VectorStepResult, type VectorEpisodeInfo } from './vector-cartpole.js';
export {
  GaussianMlpPolicy,
  CartPoleCritic,
  OBSERVATION_SIZE,
  ACTION_SIZE,
  HIDDEN_SIZE,
  type GaussianMlpPolicyOptions,
} from './policy.js';
export { computeGae, normalizeAdvantages, ppoLosses, type GaeResult, type PpoLossInput } from './ppo-math.js';
export { act, allocateActOutput, readLogStd, truncationValues, allocateTruncationScratch, type ActOutput, type TruncationScratch } from './rollout.js';
export { ppoLossGradients, ppoMinibatchStep, FlatAdam, type PpoLossGradientInput, type PpoLossGradients, type HostMinibatch } from './ppo-update.js';
export { evaluatePolicy, type EvaluateOptions, type EvaluateResult } from './evaluate.js';
export {
  trainPpo,
  PPO_DEFAULTS,
  PPO_PAPER,
  type PpoConfig,
  type PpoOptions,
  type PpoResult,
  type PolicyCheckpoint,
  type IterationStats,
} from './ppo.js';
