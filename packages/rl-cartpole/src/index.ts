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
