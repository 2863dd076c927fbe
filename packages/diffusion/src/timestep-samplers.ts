// Distributions over training timesteps (guided-diffusion's resample.py). Sampling is
// importance sampling: each drawn timestep comes with the weight 1 / (T p(t)) that keeps the
// loss an unbiased estimate of the uniform-timestep objective.

import { tensor, type Tensor } from '@gpt/tensor';
import { generatorFrom, type SeedOptions } from './random-source.js';

export interface TimestepSample {
  /** [B] int32 timesteps */
  timesteps: Tensor;
  /** [B] float32 weights 1 / (T p(t)) to scale each loss by */
  weights: Tensor;
}

export abstract class ScheduleSampler {
  readonly numTimesteps: number;

  /** @param diffusion anything with numTimesteps, usually the GaussianDiffusion trained */
  constructor(diffusion: { readonly numTimesteps: number }) {
    const T = diffusion.numTimesteps;
    if (!Number.isInteger(T) || T < 1) throw new Error(`${this.constructor.name}: numTimesteps must be a positive integer, got ${T}`);
    this.numTimesteps = T;
  }

  /** One non-negative weight per timestep, not necessarily normalized. */
  abstract weights(): Float64Array;

  /** Draws `batchSize` timesteps with probability proportional to weights(). */
  sample(batchSize: number, options: SeedOptions & { device?: string } = {}): TimestepSample {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`sample: batchSize must be a positive integer, got ${batchSize}`);
    const weights = this.weights();
    const T = weights.length;
    const cdf = new Float64Array(T);
    let total = 0;
    for (let i = 0; i < T; i++) {
      total += weights[i]!;
      cdf[i] = total;
    }
    if (!(total > 0 && Number.isFinite(total))) throw new Error(`sample: the timestep weights sum to ${total}; they must be finite with a positive sum`);
    // Uniforms are host draws from the generator (the same numbers on every device), and
    // the inverse CDF is evaluated in float64 on the host.
    const u = generatorFrom('sample', options).uniform(batchSize);
    const timesteps = new Int32Array(batchSize);
    const importance = new Float32Array(batchSize);
    for (let b = 0; b < batchSize; b++) {
      const t = searchCdf(cdf, u[b]! * total, weights);
      timesteps[b] = t;
      importance[b] = total / (T * weights[t]!);
    }
    return {
      timesteps: tensor(timesteps, { device: options.device }),
      weights: tensor(importance, { device: options.device }),
    };
  }
}

/** The first index whose cumulative weight exceeds `target`, skipping zero-weight entries. */
function searchCdf(cdf: Float64Array, target: number, weights: Float64Array): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid]! > target) hi = mid;
    else lo = mid + 1;
  }
  // Rounding at the top end can land on a trailing zero-weight entry: step back to a real one.
  while (lo > 0 && weights[lo] === 0) lo--;
  return lo;
}

/** Every timestep equally likely (G.pt's choice): all weights are 1. */
export class UniformSampler extends ScheduleSampler {
  private readonly uniform: Float64Array;

  constructor(diffusion: { readonly numTimesteps: number }) {
    super(diffusion);
    this.uniform = new Float64Array(this.numTimesteps).fill(1);
  }

  weights(): Float64Array {
    return this.uniform;
  }
}

/** Samplers whose weights follow the losses seen during training. */
export abstract class LossAwareSampler extends ScheduleSampler {
  /** Records a batch of per-example losses read from tensors ([B] timesteps, [B] losses). */
  async updateWithLocalLosses(localTs: Tensor, localLosses: Tensor): Promise<void> {
    if (localTs.rank !== 1 || localLosses.rank !== 1 || localTs.shape[0] !== localLosses.shape[0]) {
      throw new Error(`updateWithLocalLosses: need [B] timesteps and [B] losses, got [${localTs.shape.join(', ')}] and [${localLosses.shape.join(', ')}]`);
    }
    const [ts, losses] = await Promise.all([localTs.data(), localLosses.data()]);
    this.updateWithAllLosses(ts, losses);
  }

  /** Records one loss per timestep (host arrays of equal length). */
  abstract updateWithAllLosses(ts: ArrayLike<number>, losses: ArrayLike<number>): void;
}

export interface LossSecondMomentState {
  historyPerTerm: number;
  uniformProb: number;
  /** [T * historyPerTerm] the last losses of each timestep, oldest first */
  lossHistory: number[];
  /** [T] how many losses each timestep has recorded (at most historyPerTerm) */
  lossCounts: number[];
}

/**
 * Nichol & Dhariwal (2021)'s importance sampler: once every timestep has `historyPerTerm`
 * recorded losses, p(t) ∝ sqrt(E[loss_t²]) mixed with a uniform floor `uniformProb`;
 * uniform before that.
 */
export class LossSecondMomentResampler extends LossAwareSampler {
  readonly historyPerTerm: number;
  readonly uniformProb: number;
  private readonly lossHistory: Float64Array;
  private readonly lossCounts: Int32Array;

  constructor(diffusion: { readonly numTimesteps: number }, options: { historyPerTerm?: number; uniformProb?: number } = {}) {
    super(diffusion);
    this.historyPerTerm = options.historyPerTerm ?? 10;
    this.uniformProb = options.uniformProb ?? 0.001;
    if (!Number.isInteger(this.historyPerTerm) || this.historyPerTerm < 1) {
      throw new Error(`LossSecondMomentResampler: historyPerTerm must be a positive integer, got ${this.historyPerTerm}`);
    }
    if (!(this.uniformProb >= 0 && this.uniformProb <= 1)) {
      throw new Error(`LossSecondMomentResampler: uniformProb must be in [0, 1], got ${this.uniformProb}`);
    }
    this.lossHistory = new Float64Array(this.numTimesteps * this.historyPerTerm);
    this.lossCounts = new Int32Array(this.numTimesteps);
  }

  weights(): Float64Array {
    const T = this.numTimesteps;
    const H = this.historyPerTerm;
    if (!this.warmedUp()) return new Float64Array(T).fill(1);
    const weights = new Float64Array(T);
    let total = 0;
    for (let t = 0; t < T; t++) {
      let squares = 0;
      for (let k = 0; k < H; k++) squares += this.lossHistory[t * H + k]! ** 2;
      weights[t] = Math.sqrt(squares / H);
      total += weights[t]!;
    }
    for (let t = 0; t < T; t++) weights[t] = (weights[t]! / total) * (1 - this.uniformProb) + this.uniformProb / T;
    return weights;
  }

  updateWithAllLosses(ts: ArrayLike<number>, losses: ArrayLike<number>): void {
    if (ts.length !== losses.length) throw new Error(`updateWithAllLosses: ${ts.length} timesteps but ${losses.length} losses`);
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i]!;
      const loss = losses[i]!;
      if (!Number.isInteger(t) || t < 0 || t >= this.numTimesteps) {
        throw new Error(`updateWithAllLosses: timestep ${t} at position ${i} is not an integer in [0, ${this.numTimesteps})`);
      }
      if (!Number.isFinite(loss)) throw new Error(`updateWithAllLosses: loss ${loss} at position ${i} (timestep ${t}) is not finite`);
    }
    const H = this.historyPerTerm;
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i]!;
      const row = t * H;
      if (this.lossCounts[t] === H) {
        // Full history: shift out the oldest loss.
        this.lossHistory.copyWithin(row, row + 1, row + H);
        this.lossHistory[row + H - 1] = losses[i]!;
      } else {
        this.lossHistory[row + this.lossCounts[t]!] = losses[i]!;
        this.lossCounts[t]!++;
      }
    }
  }

  /** Whether every timestep has a full loss history (before that, sampling is uniform). */
  warmedUp(): boolean {
    return this.lossCounts.every((count) => count === this.historyPerTerm);
  }

  /** Plain serializable state, for checkpointing a training run. */
  getState(): LossSecondMomentState {
    return {
      historyPerTerm: this.historyPerTerm,
      uniformProb: this.uniformProb,
      lossHistory: Array.from(this.lossHistory),
      lossCounts: Array.from(this.lossCounts),
    };
  }

  setState(state: LossSecondMomentState): void {
    if (
      state.historyPerTerm !== this.historyPerTerm ||
      state.uniformProb !== this.uniformProb ||
      state.lossCounts.length !== this.numTimesteps || state.lossHistory.length !== this.lossHistory.length) {
      throw new Error(
        `LossSecondMomentResampler.setState: state is for ${state.lossCounts.length} timesteps × ${state.historyPerTerm} losses ` +
          `(uniformProb ${state.uniformProb}), this sampler has ${this.numTimesteps} × ${this.historyPerTerm} (uniformProb ${this.uniformProb})`,
      );
    }
    if (state.lossCounts.some((c) => !Number.isInteger(c) || c < 0 || c > this.historyPerTerm)) {
      throw new Error(`LossSecondMomentResampler.setState: loss counts must be integers in [0, ${this.historyPerTerm}]`);
    }
    this.lossHistory.set(state.lossHistory);
    this.lossCounts.set(state.lossCounts);
  }
}

export type ScheduleSamplerName = 'uniform' | 'loss-second-moment';

/** A sampler by name (guided-diffusion's create_named_schedule_sampler). */
export function createNamedScheduleSampler(name: ScheduleSamplerName | (string & {}), diffusion: { readonly numTimesteps: number }): ScheduleSampler {
  switch (name) {
    case 'uniform':
      return new UniformSampler(diffusion);
    case 'loss-second-moment':
      return new LossSecondMomentResampler(diffusion);
    default:
      throw new Error(`createNamedScheduleSampler: unknown schedule sampler "${name}" (known: uniform, loss-second-moment)`);
  }
}
