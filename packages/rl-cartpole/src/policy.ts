// The G.pt paper's Cartpole networks (G.pt data_gen/train_rl.py, ActorCritic / VisActorCritic):
// a Gaussian MLP actor with a state-independent log-std — the 1,250 numbers a checkpoint holds —
// and a separate critic that PPO trains beside it but that is never saved.

import { Linear, Module, SELU, Sequential, init, parameter } from '@gpt/nn';
import { exp, generatorFor, mul, neg, reshape, square, sub, sum, tidy, zeros, type Generator, type RandomOptions, type Tensor } from '@gpt/tensor';

export const OBSERVATION_SIZE = 4;
export const ACTION_SIZE = 1;
export const HIDDEN_SIZE = 32;
/** log(2 pi) / 2, the Gaussian log-density's constant. */
export const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** Linear(in, out) with PyTorch's default bias init and an orthogonal weight of the given gain (stable-baselines' init). */
function orthogonalLinear(inFeatures: number, outFeatures: number, gain: number, generator: Generator): Linear {
  // Default init first (it draws the bias), then the orthogonal weight, in PyTorch's order.
  const layer = new Linear(inFeatures, outFeatures, { generator });
  const weight = init.orthogonal([outFeatures, inFeatures], { gain, generator }); // [out, in]
  layer.weight.assign(weight);
  weight.dispose();
  return layer;
}

/** 4 -> 32 -> 32 -> out with SELU between, orthogonal gains sqrt(2), sqrt(2), lastGain. */
function selMlp(outFeatures: number, lastGain: number, generator: Generator): Sequential {
  return new Sequential(
    orthogonalLinear(OBSERVATION_SIZE, HIDDEN_SIZE, Math.SQRT2, generator),
    new SELU(),
    orthogonalLinear(HIDDEN_SIZE, HIDDEN_SIZE, Math.SQRT2, generator),
    new SELU(),
    orthogonalLinear(HIDDEN_SIZE, outFeatures, lastGain, generator),
  );
}

export interface GaussianMlpPolicyOptions extends RandomOptions {
  /** Initial action-noise std; log_std starts at log(initNoiseStd) / logStdScale. Default 1 (log_std = 0). */
  initNoiseStd?: number;
  /**
   * The action std is exp(logStdScale * log_std). Default 2, what the paper's code does: it builds
   * MultivariateNormal(mean, scale_tril=diag(exp(log_std)^2)), passing the variance where the
   * Cholesky factor (the std) belongs, so its checkpoints' log_std values mean std = exp(2 log_std).
   * 1 gives the textbook exp(log_std).
   */
  logStdScale?: number;
}

/**
 * The saved policy. State dict (= flat order, 1,250 numbers): log_std [1], actor.0.weight [32, 4],
 * actor.0.bias [32], actor.2.weight [32, 32], actor.2.bias [32], actor.4.weight [1, 32], actor.4.bias [1].
 * Actions are N(actor(obs), std^2) with std = exp(logStdScale * log_std), logStdScale 2 as in the paper's code.
 */
export class GaussianMlpPolicy extends Module {
  actor: Sequential;
  // Declared after actor, yet first in the state dict: own parameters come first, as in PyTorch.
  log_std: Tensor;
  /** A number, not a tensor: not part of the state dict. */
  readonly logStdScale: number;

  constructor(options: GaussianMlpPolicyOptions = {}) {
    super();
    const { initNoiseStd = 1, logStdScale = 2, ...random } = options;
    if (!(Number.isFinite(initNoiseStd) && initNoiseStd > 0)) throw new Error(`GaussianMlpPolicy: initNoiseStd must be a positive number, got ${initNoiseStd}`);
    if (!(Number.isFinite(logStdScale) && logStdScale > 0)) throw new Error(`GaussianMlpPolicy: logStdScale must be a positive number, got ${logStdScale}`);
    this.logStdScale = logStdScale;
    const generator = generatorFor(random, 'GaussianMlpPolicy');
    this.actor = selMlp(ACTION_SIZE, 0.01, generator);
    const logStd = zeros([ACTION_SIZE]); // [A]
    this.log_std = parameter(initNoiseStd === 1 ? logStd : tidy(() => logStd.add(Math.log(initNoiseStd) / logStdScale)));
    if (initNoiseStd !== 1) logStd.dispose();
  }

  /** log of the action std, logStdScale * log_std. [A] */
  actionLogStd(): Tensor {
    return mul(this.log_std, this.logStdScale);
  }

  /** Action means. [B, 4] -> [B, 1] */
  forward(observations: Tensor): Tensor {
    return this.actor.forward(observations);
  }

  /** log N(actions; actor(obs), std^2), summed over the action dimension. [B, 4], [B, 1] -> [B] */
  logProb(observations: Tensor, actions: Tensor): Tensor {
    return tidy(() => {
      const means = this.forward(observations); // [B, A]
      const logStd = this.actionLogStd(); // [A]
      const z = mul(sub(actions, means), exp(neg(logStd))); // [B, A]
      const perDim = sub(mul(square(z), -0.5), logStd.add(HALF_LOG_2PI)); // [B, A]
      return sum(perDim, 1); // [B]
    });
  }
}

/** The value function: 4 -> 32 -> 32 -> 1 SELU MLP, orthogonal gains sqrt(2), sqrt(2), 1; keys critic.0.weight, ... */
export class CartPoleCritic extends Module {
  critic: Sequential;

  constructor(options: RandomOptions = {}) {
    super();
    this.critic = selMlp(1, 1, generatorFor(options, 'CartPoleCritic'));
  }

  /** State values. [B, 4] -> [B] */
  forward(observations: Tensor): Tensor {
    return tidy(() => {
      const values = this.critic.forward(observations); // [B, 1]
      return reshape(values, [observations.shape[0]!]); // [B]
    });
  }
}
