// The PPO minibatch step with few tensor ops. The networks' forward and backward passes run on
// @gpt/tensor's tape; everything after the networks' outputs (the Gaussian log-density, the
// ratio, the clipped surrogate, the value loss, the entropy bonus) and everything after the
// gradients (global grad-norm clipping, Adam) is closed-form elementwise maths over 4,096 numbers
// or 2,499 parameters, which runs on the host in float64 in one pass each instead of ~200 tensor
// ops per step. The maths is PyTorch's: ppoLosses + GaussianMlpPolicy.logProb (tested against
// them through autograd), torch.nn.utils.clip_grad_norm_ and torch.optim.Adam.

import { noGrad, tensor, tidy, type Tensor } from '@gpt/tensor';
import { ACTION_SIZE, HALF_LOG_2PI, type CartPoleCritic, type GaussianMlpPolicy } from './policy.js';

export interface PpoLossGradientInput {
  /** actor(s) under the current parameters. [B * A] */
  means: ArrayLike<number>;
  /** log of the action std, logStdScale * log_std. [A] */
  logStd: ArrayLike<number>;
  /** [B * A] */
  actions: ArrayLike<number>;
  /** [B] */
  oldLogProbs: ArrayLike<number>;
  /** [B] */
  advantages: ArrayLike<number>;
  /** critic(s) under the current parameters. [B] */
  values: ArrayLike<number>;
  /** [B] */
  returns: ArrayLike<number>;
}

export interface PpoLossGradients {
  /** mean(max(-A r, -A clamp(r, 1 - clip, 1 + clip))), as ppoLosses */
  surrogate: number;
  /** mean((returns - values)^2), as ppoLosses */
  valueLoss: number;
  /** d loss / d means. [B * A] */
  gradMeans: Float32Array;
  /** d loss / d values. [B] */
  gradValues: Float32Array;
  /** d loss / d logStd (the scaled log std). [A] */
  gradLogStd: Float64Array;
}

/**
 * The loss surrogate + valueCoef valueLoss - entropyCoef entropy and its gradient with respect to
 * the networks' outputs and the log std, on the host. logProb = sum_j -z_j^2 / 2 - logStd_j -
 * log(2 pi) / 2 with z = (a - mean) e^-logStd, as GaussianMlpPolicy.logProb. Where the unclipped
 * and clipped terms tie (r inside the clip range), the gradient is the unclipped one, which is
 * what autograd's even split of `maximum` sums to there.
 */
export function ppoLossGradients(input: PpoLossGradientInput, clip: number, valueCoef: number, entropyCoef: number, out?: Pick<PpoLossGradients, 'gradMeans' | 'gradValues'>): PpoLossGradients {
  const { means, logStd, actions, oldLogProbs, advantages, values, returns } = input;
  const size = oldLogProbs.length;
  const dims = logStd.length;
  if (means.length !== size * dims || actions.length !== size * dims || advantages.length !== size || values.length !== size || returns.length !== size) {
    throw new Error(`ppoLossGradients: inconsistent lengths (means ${means.length}, actions ${actions.length}, oldLogProbs ${size}, advantages ${advantages.length}, values ${values.length}, returns ${returns.length}, logStd ${dims})`);
  }
  const gradMeans = out?.gradMeans ?? new Float32Array(size * dims);
  const gradValues = out?.gradValues ?? new Float32Array(size);
  const gradLogStd = new Float64Array(dims);
  const invVariance = Float64Array.from(logStd, (s) => Math.exp(-2 * s));
  let logStdSum = 0;
  for (let j = 0; j < dims; j++) logStdSum += logStd[j]!;
  const constant = logStdSum + dims * HALF_LOG_2PI;
  let surrogateSum = 0;
  let valueSum = 0;
  for (let i = 0; i < size; i++) {
    let squares = 0;
    for (let j = 0; j < dims; j++) {
      const diff = actions[i * dims + j]! - means[i * dims + j]!;
      squares += diff * diff * invVariance[j]!;
    }
    const logProb = -0.5 * squares - constant;
    const ratio = Math.exp(logProb - oldLogProbs[i]!);
    const advantage = advantages[i]!;
    const clipped = Math.min(Math.max(ratio, 1 - clip), 1 + clip);
    const unclippedLoss = -advantage * ratio;
    const clippedLoss = -advantage * clipped;
    let gradRatio: number; // d (per-sample surrogate) / d ratio
    if (unclippedLoss >= clippedLoss) {
      surrogateSum += unclippedLoss;
      gradRatio = -advantage;
    } else {
      surrogateSum += clippedLoss;
      gradRatio = ratio > 1 - clip && ratio < 1 + clip ? -advantage : 0;
    }
    const gradLogProb = (gradRatio * ratio) / size;
    for (let j = 0; j < dims; j++) {
      const diff = actions[i * dims + j]! - means[i * dims + j]!;
      gradMeans[i * dims + j] = gradLogProb * diff * invVariance[j]!; // d logProb / d mean = (a - mean) / std^2
      gradLogStd[j]! += gradLogProb * (diff * diff * invVariance[j]! - 1); // d logProb / d logStd = z^2 - 1
    }
    const error = values[i]! - returns[i]!;
    valueSum += error * error;
    gradValues[i] = (valueCoef * 2 * error) / size;
  }
  // entropy = sum_j logStd_j + A (1 + log 2 pi) / 2
  for (let j = 0; j < dims; j++) gradLogStd[j]! -= entropyCoef;
  return { surrogate: surrogateSum / size, valueLoss: valueSum / size, gradMeans, gradValues, gradLogStd };
}

/**
 * torch.optim.Adam (no weight decay, no amsgrad) preceded by torch.nn.utils.clip_grad_norm_ over
 * one flat host copy of the parameters: one pass over 2,499 numbers instead of ~100 tensor ops
 * over 14 tensors. The parameters must change only through this optimizer while it is in use.
 */
export class FlatAdam {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  private readonly params: Tensor[];
  private readonly offsets: number[];
  /** The parameters, flat in the order given. */
  readonly values: Float32Array;
  /** The gradients of the step being taken, flat. */
  readonly grads: Float64Array;
  private readonly expAvg: Float64Array;
  private readonly expAvgSq: Float64Array;
  private steps = 0;

  constructor(params: Tensor[], options: { lr: number; betas?: [number, number]; eps?: number }) {
    this.params = params;
    this.lr = options.lr;
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.offsets = [];
    let total = 0;
    for (const p of params) {
      this.offsets.push(total);
      total += p.size;
    }
    this.values = new Float32Array(total);
    params.forEach((p, k) => this.values.set(p.dataSync(), this.offsets[k]));
    this.grads = new Float64Array(total);
    this.expAvg = new Float64Array(total);
    this.expAvgSq = new Float64Array(total);
  }

  /** Where parameter k starts in the flat arrays. */
  offset(k: number): number {
    return this.offsets[k]!;
  }

  /**
   * Moves each parameter's `.grad` (disposing it) into `grads` at its offset; the slots of
   * parameters without a gradient are zeroed (the caller fills in gradients computed on the host).
   */
  collectGrads(): void {
    this.params.forEach((p, k) => {
      if (!p.grad) {
        this.grads.fill(0, this.offsets[k], this.offsets[k]! + p.size);
        return;
      }
      this.grads.set(p.grad.dataSync(), this.offsets[k]);
      p.grad.dispose();
      p.grad = null;
    });
  }

  /** Clips `grads` to a global 2-norm of maxNorm (min(1, maxNorm / (norm + 1e-6))), takes an Adam step, writes the parameters back; returns the norm before clipping. */
  step(maxNorm: number): number {
    const { grads, expAvg, expAvgSq, values, beta1, beta2 } = this;
    let squares = 0;
    for (let i = 0; i < grads.length; i++) squares += grads[i]! * grads[i]!;
    const norm = Math.sqrt(squares);
    const scale = Math.min(1, maxNorm / (norm + 1e-6));
    this.steps++;
    const c1 = 1 - beta1 ** this.steps;
    const c2 = Math.sqrt(1 - beta2 ** this.steps);
    const stepSize = this.lr / c1;
    for (let i = 0; i < grads.length; i++) {
      const g = grads[i]! * scale;
      const m = (expAvg[i] = beta1 * expAvg[i]! + (1 - beta1) * g);
      const v = (expAvgSq[i] = beta2 * expAvgSq[i]! + (1 - beta2) * g * g);
      values[i] = values[i]! - (stepSize * m) / (Math.sqrt(v) / c2 + this.eps);
    }
    this.params.forEach((p, k) => {
      const updated = tensor(values.subarray(this.offsets[k], this.offsets[k]! + p.size), { shape: p.shape });
      p.assign(updated);
      updated.dispose();
    });
    return norm;
  }
}

/** One minibatch: the observations as a tensor (the networks' input), the rest as host arrays. */
export interface HostMinibatch {
  observations: Tensor; // [B, 4]
  actions: Float32Array; // [B * A]
  oldLogProbs: Float32Array; // [B]
  advantages: Float32Array; // [B]
  returns: Float32Array; // [B]
}

/**
 * One PPO minibatch step: forward both networks on the tape, the loss gradient on the host,
 * backward from the outputs, clip and Adam on the host. The optimizer's parameters must be the
 * policy's (log_std first) followed by the critic's.
 */
export function ppoMinibatchStep(
  policy: GaussianMlpPolicy,
  critic: CartPoleCritic,
  optimizer: FlatAdam,
  batch: HostMinibatch,
  config: { clip: number; valueCoef: number; entropyCoef: number; maxGradNorm: number },
  scratch: { gradMeans: Float32Array; gradValues: Float32Array },
): { surrogate: number; valueLoss: number; gradNorm: number } {
  const size = batch.oldLogProbs.length;
  if (batch.observations.shape[0] !== size) throw new Error(`ppoMinibatchStep: ${batch.observations.shape[0]} observations for ${size} samples`);
  // log_std is the optimizer's first parameter (the policy's state dict starts with it).
  const logStd = Float64Array.from(optimizer.values.subarray(0, ACTION_SIZE), (v) => policy.logStdScale * v);
  const losses = tidy(() => {
    const means = policy.forward(batch.observations); // [B, A]
    const values = critic.forward(batch.observations); // [B]
    const result = ppoLossGradients(
      { means: means.dataSync(), logStd, actions: batch.actions, oldLogProbs: batch.oldLogProbs, advantages: batch.advantages, values: values.dataSync(), returns: batch.returns },
      config.clip,
      config.valueCoef,
      config.entropyCoef,
      scratch,
    );
    means.backward(tensor(result.gradMeans, { shape: [size, ACTION_SIZE] }));
    values.backward(tensor(result.gradValues, { shape: [size] }));
    return result;
  });
  optimizer.collectGrads();
  for (let j = 0; j < ACTION_SIZE; j++) optimizer.grads[j] = policy.logStdScale * losses.gradLogStd[j]!;
  const gradNorm = noGrad(() => optimizer.step(config.maxGradNorm));
  return { surrogate: losses.surrogate, valueLoss: losses.valueLoss, gradNorm };
}
