// The pieces of a PPO update that have a closed form, kept apart from the training loop so tests
// can check them on a small batch: GAE over a [T, N] rollout, advantage normalization, and the
// clipped surrogate and value losses (G.pt's train_rl.py PPO.update, CleanRL's ppo_continuous_action).

import { clamp, exp, maximum, mean, mul, neg, square, sub, tidy, type Tensor } from '@gpt/tensor';

export interface GaeResult {
  /** [T * N], time-major like the rollout */
  advantages: Float32Array;
  /** advantages + values: the critic's targets. [T * N] */
  returns: Float32Array;
}

/**
 * Generalized advantage estimation over a time-major rollout of `numSteps` x `numEnvs`:
 * delta_t = r_t + gamma ((1 - done_t) V_{t+1} + b_t) - V_t, A_t = delta_t + gamma lambda (1 - done_t) A_{t+1},
 * with V_T = lastValues. done_t = 1 when the episode ended in step t (terminated or truncated);
 * b_t = `bootstrapValues`[t] is V(final observation) where the episode was truncated (not terminated)
 * in step t and 0 elsewhere, so a time-limit cut is bootstrapped as Gymnasium-aware PPO does (the
 * paper's code and CleanRL omit it: without `bootstrapValues`, b = 0). Sums run in float64.
 */
export function computeGae(
  rollout: {
    rewards: ArrayLike<number>;
    values: ArrayLike<number>;
    dones: ArrayLike<number>;
    lastValues: ArrayLike<number>;
    bootstrapValues?: ArrayLike<number>;
  },
  numSteps: number,
  numEnvs: number,
  gamma: number,
  lambda: number,
): GaeResult {
  const size = numSteps * numEnvs;
  for (const key of ['rewards', 'values', 'dones'] as const) {
    if (rollout[key].length !== size) throw new Error(`computeGae: ${key} has ${rollout[key].length} values, expected ${numSteps} x ${numEnvs} = ${size}`);
  }
  const bootstrap = rollout.bootstrapValues;
  if (bootstrap && bootstrap.length !== size) throw new Error(`computeGae: bootstrapValues has ${bootstrap.length} values, expected ${numSteps} x ${numEnvs} = ${size}`);
  if (rollout.lastValues.length !== numEnvs) throw new Error(`computeGae: lastValues has ${rollout.lastValues.length} values, expected ${numEnvs}`);
  const advantages = new Float32Array(size);
  const returns = new Float32Array(size);
  for (let env = 0; env < numEnvs; env++) {
    let nextAdvantage = 0;
    let nextValue = rollout.lastValues[env]!;
    for (let t = numSteps - 1; t >= 0; t--) {
      const k = t * numEnvs + env;
      const notDone = 1 - rollout.dones[k]!;
      const value = rollout.values[k]!;
      const delta = rollout.rewards[k]! + gamma * (notDone * nextValue + (bootstrap ? bootstrap[k]! : 0)) - value;
      nextAdvantage = delta + gamma * lambda * notDone * nextAdvantage;
      advantages[k] = nextAdvantage;
      returns[k] = nextAdvantage + value;
      nextValue = value;
    }
  }
  return { advantages, returns };
}

/** In place: (a - mean) / (std + 1e-8) with the unbiased std over the whole batch, as the paper's code (torch .std()). */
export function normalizeAdvantages(advantages: Float32Array): Float32Array {
  const n = advantages.length;
  if (n < 2) throw new Error(`normalizeAdvantages: needs at least 2 values, got ${n}`);
  let total = 0;
  for (const a of advantages) total += a;
  const average = total / n;
  let squares = 0;
  for (const a of advantages) squares += (a - average) ** 2;
  const std = Math.sqrt(squares / (n - 1));
  for (let i = 0; i < n; i++) advantages[i] = (advantages[i]! - average) / (std + 1e-8);
  return advantages;
}

export interface PpoLossInput {
  /** log pi_new(a | s). [B] */
  logProb: Tensor;
  /** log pi_old(a | s) recorded in the rollout. [B] */
  oldLogProb: Tensor;
  /** [B] */
  advantages: Tensor;
  /** critic(s) under the current parameters. [B] */
  values: Tensor;
  /** GAE targets. [B] */
  returns: Tensor;
}

/**
 * surrogate = mean(max(-A r, -A clamp(r, 1 - clip, 1 + clip))), r = exp(logProb - oldLogProb);
 * valueLoss = mean((returns - values)^2), unclipped as in the paper's Cartpole config.
 */
export function ppoLosses(input: PpoLossInput, clip: number): { surrogate: Tensor; valueLoss: Tensor } {
  return tidy(() => {
    const ratio = exp(sub(input.logProb, input.oldLogProb)); // [B]
    const negAdvantages = neg(input.advantages); // [B]
    const unclipped = mul(negAdvantages, ratio); // [B]
    const clipped = mul(negAdvantages, clamp(ratio, 1 - clip, 1 + clip)); // [B]
    const surrogate = mean(maximum(unclipped, clipped)); // []
    const valueLoss = mean(square(sub(input.returns, input.values))); // []
    return { surrogate, valueLoss };
  });
}
