// Gaussian diffusion (Ho et al. 2020; Nichol & Dhariwal 2021; DDIM: Song et al. 2021):
// the forward process q, the model's reverse process p, DDPM and DDIM sampling loops and
// the training loss. Names follow openai/guided-diffusion's gaussian_diffusion.py, camelCased,
// so the maths can be compared line by line. Coefficients are float64 tables; per batch
// element they are gathered into float32 [B, 1, ...] tensors and applied with @gpt/tensor ops.

import {
  cast,
  clamp,
  exp,
  full,
  mean,
  noGrad,
  notEqual,
  randn,
  reshape,
  tidy,
  tidyAsync,
  type Tensor,
} from '@gpt/tensor';
import {
  computeCoefficients,
  modelVariance,
  validateBetas,
  type DiffusionCoefficients,
} from './diffusion-coefficients.js';
import { assertTimesteps, extractIntoTensor, formatShape } from './extract-into-tensor.js';
import { ModelMeanType, ModelVarType, type DenoisedFn, type DiffusionModel } from './model-types.js';
import { generatorFrom, type SeedOptions } from './random-source.js';
import { TimeSlicer } from './time-slicer.js';

export interface GaussianDiffusionOptions {
  /** One beta per forward step, in (0, 1]; see getNamedBetaSchedule. */
  betas: ArrayLike<number>;
  modelMeanType: ModelMeanType;
  modelVarType: ModelVarType;
  /**
   * The cumulative products of 1 - beta when known exactly; respacing passes the original
   * process's values. Defaults to the cumulative product of the betas.
   */
  alphasCumprod?: ArrayLike<number>;
}

/** How the model's prediction is turned into p(x_{t-1} | x_t). */
export interface DenoiseOptions<Cond = unknown> {
  /** Passed to the model as its third argument. */
  cond?: Cond;
  /** Clamp the x_0 prediction to [-1, 1] (applied after denoisedFn). Default false, as G.pt samples. */
  clipDenoised?: boolean;
  /** Applied to the x_0 prediction before it is used, e.g. staticThreshold(min, max). */
  denoisedFn?: DenoisedFn;
}

export interface StepOptions<Cond = unknown> extends DenoiseOptions<Cond>, SeedOptions {
  /** The standard normal noise of this step ([B, ...], caller-owned); drawn when omitted. */
  noise?: Tensor;
}

export interface DdimOptions {
  /** DDIM's eta: 0 is the deterministic sampler, 1 has DDPM's posterior variance. Default 0. */
  eta?: number;
}

export interface LoopOptions<Cond = unknown> extends DenoiseOptions<Cond>, SeedOptions {
  /** The starting x_T (caller-owned, shaped like `shape`); standard normal noise when omitted. */
  noise?: Tensor;
  /** Device of the samples when `noise` is not given. */
  device?: string;
  /** Stops the loop between steps with the signal's reason. */
  signal?: AbortSignal;
}

export interface PMeanVariance {
  /** [B, ...] mean of p(x_{t-1} | x_t) */
  mean: Tensor;
  /** [B, 1, ...] its variance (broadcasts against x) */
  variance: Tensor;
  /** [B, 1, ...] log of the variance */
  logVariance: Tensor;
  /** [B, ...] the (processed) prediction of x_0 */
  predXstart: Tensor;
}

export interface SampleResult {
  /** [B, ...] x_{t-1} */
  sample: Tensor;
  /** [B, ...] the prediction of x_0 it was drawn from */
  predXstart: Tensor;
}

/**
 * One step of a sampling loop, as yielded by the progressive loops. The tensors belong to the
 * loop and are disposed when it resumes; keep one with `step.sample.detach()` (a new handle).
 */
export interface SampleStep extends SampleResult {
  /** 0 for the first step, total - 1 for the last */
  index: number;
  /** number of steps of the loop */
  total: number;
  /** the timestep t of this diffusion that produced x_{t-1} (counts down to 0) */
  t: number;
  /** the same timestep in the original process, as the model saw it (differs when respaced) */
  timestep: number;
}

export interface TrainingLossOptions<Cond = unknown> extends SeedOptions {
  cond?: Cond;
  /** The noise used to diffuse x_0 ([B, ...], caller-owned); drawn when omitted. */
  noise?: Tensor;
}

/** A static threshold for denoisedFn: clamps the x_0 prediction to [min, max]. */
export function staticThreshold(min: number, max: number): DenoisedFn {
  if (!(min < max)) throw new Error(`staticThreshold: need min < max, got [${min}, ${max}]`);
  return (predXstart) => clamp(predXstart, min, max);
}

type Step<Cond> = (x: Tensor, t: Tensor, options: StepOptions<Cond>) => Promise<SampleResult>;

export class GaussianDiffusion implements DiffusionCoefficients {
  readonly modelMeanType: ModelMeanType;
  readonly modelVarType: ModelVarType;
  readonly numTimesteps: number;

  readonly betas: Float64Array;
  readonly alphasCumprod: Float64Array;
  readonly alphasCumprodPrev: Float64Array;
  readonly alphasCumprodNext: Float64Array;
  readonly sqrtAlphasCumprod: Float64Array;
  readonly sqrtAlphasCumprodPrev: Float64Array;
  readonly sqrtOneMinusAlphasCumprod: Float64Array;
  readonly logOneMinusAlphasCumprod: Float64Array;
  readonly sqrtRecipAlphasCumprod: Float64Array;
  readonly sqrtRecipm1AlphasCumprod: Float64Array;
  readonly posteriorVariance: Float64Array;
  readonly posteriorLogVarianceClipped: Float64Array;
  readonly posteriorMeanCoef1: Float64Array;
  readonly posteriorMeanCoef2: Float64Array;
  /** The variance of p(x_{t-1} | x_t) for this diffusion's ModelVarType. */
  readonly modelVariance: Float64Array;
  readonly modelLogVariance: Float64Array;

  /** 1 - alphaBar_t, the variance of q(x_t | x_0) */
  private readonly oneMinusAlphasCumprod: Float64Array;
  /** float32 copies of the tables, made on first use */
  private readonly float32Tables = new WeakMap<Float64Array, Float32Array>();
  /** DDIM's sigma_t and sqrt(1 - alphaBar_prev - sigma_t²) per eta */
  private readonly ddimTables = new Map<number, { sigma: Float64Array; epsCoef: Float64Array }>();

  constructor(options: GaussianDiffusionOptions) {
    if (!Object.values(ModelMeanType).includes(options.modelMeanType)) {
      throw new Error(`GaussianDiffusion: unknown modelMeanType "${String(options.modelMeanType)}" (known: ${Object.values(ModelMeanType).join(', ')})`);
    }
    const betas = validateBetas('GaussianDiffusion', options.betas);
    const c = computeCoefficients(betas, options.alphasCumprod && validateAlphasCumprod(options.alphasCumprod, betas));
    const variance = modelVariance(c, options.modelVarType);
    this.modelMeanType = options.modelMeanType;
    this.modelVarType = options.modelVarType;
    this.numTimesteps = betas.length;
    this.betas = c.betas;
    this.alphasCumprod = c.alphasCumprod;
    this.alphasCumprodPrev = c.alphasCumprodPrev;
    this.alphasCumprodNext = c.alphasCumprodNext;
    this.sqrtAlphasCumprod = c.sqrtAlphasCumprod;
    this.sqrtAlphasCumprodPrev = c.sqrtAlphasCumprodPrev;
    this.sqrtOneMinusAlphasCumprod = c.sqrtOneMinusAlphasCumprod;
    this.logOneMinusAlphasCumprod = c.logOneMinusAlphasCumprod;
    this.sqrtRecipAlphasCumprod = c.sqrtRecipAlphasCumprod;
    this.sqrtRecipm1AlphasCumprod = c.sqrtRecipm1AlphasCumprod;
    this.posteriorVariance = c.posteriorVariance;
    this.posteriorLogVarianceClipped = c.posteriorLogVarianceClipped;
    this.posteriorMeanCoef1 = c.posteriorMeanCoef1;
    this.posteriorMeanCoef2 = c.posteriorMeanCoef2;
    this.modelVariance = variance.variance;
    this.modelLogVariance = variance.logVariance;
    this.oneMinusAlphasCumprod = c.alphasCumprod.map((a) => 1 - a);
  }

  // ---- the forward process q ------------------------------------------------------------

  /** q(x_t | x_0): mean [B, ...], variance and log variance [B, 1, ...]. */
  qMeanVariance(xStart: Tensor, t: Tensor): { mean: Tensor; variance: Tensor; logVariance: Tensor } {
    assertTimesteps('qMeanVariance', xStart, t);
    return tidy(() => {
      const mean = this.extract(this.sqrtAlphasCumprod, t, xStart).mul(xStart); // [B, ...]
      const variance = this.extract(this.oneMinusAlphasCumprod, t, xStart); // [B, 1, ...]
      const logVariance = this.extract(this.logOneMinusAlphasCumprod, t, xStart); // [B, 1, ...]
      return { mean, variance, logVariance };
    });
  }

  /**
   * Diffuses x_0 to x_t: sqrt(alphaBar_t) x_0 + sqrt(1 - alphaBar_t) noise. `t` counts from 0
   * (one step of noise). The noise is drawn (seed/generator) unless given.
   */
  qSample(xStart: Tensor, t: Tensor, options: SeedOptions & { noise?: Tensor } = {}): Tensor {
    assertTimesteps('qSample', xStart, t);
    const noise = options.noise ?? randn(xStart.shape, { generator: generatorFrom('qSample', options), device: xStart.device });
    assertSameShape('qSample', 'noise', noise, xStart);
    try {
      return tidy(() => {
        const signal = this.extract(this.sqrtAlphasCumprod, t, xStart).mul(xStart); // [B, ...]
        const scaledNoise = this.extract(this.sqrtOneMinusAlphasCumprod, t, xStart).mul(noise); // [B, ...]
        return signal.add(scaledNoise);
      });
    } finally {
      if (noise !== options.noise) noise.dispose();
    }
  }

  /** q(x_{t-1} | x_t, x_0): mean [B, ...], variance and clipped log variance [B, 1, ...]. */
  qPosteriorMeanVariance(xStart: Tensor, xT: Tensor, t: Tensor): { mean: Tensor; variance: Tensor; logVarianceClipped: Tensor } {
    assertSameShape('qPosteriorMeanVariance', 'xStart', xStart, xT);
    assertTimesteps('qPosteriorMeanVariance', xT, t);
    return tidy(() => ({
      mean: this.posteriorMean(xStart, xT, t), // [B, ...]
      variance: this.extract(this.posteriorVariance, t, xT), // [B, 1, ...]
      logVarianceClipped: this.extract(this.posteriorLogVarianceClipped, t, xT), // [B, 1, ...]
    }));
  }

  // ---- conversions between x_0, epsilon and x_{t-1} -----------------------------------------

  predictXstartFromEps(xT: Tensor, t: Tensor, eps: Tensor): Tensor {
    assertSameShape('predictXstartFromEps', 'eps', eps, xT);
    return tidy(() => {
      const scaledX = this.extract(this.sqrtRecipAlphasCumprod, t, xT).mul(xT); // [B, ...]
      return scaledX.sub(this.extract(this.sqrtRecipm1AlphasCumprod, t, xT).mul(eps));
    });
  }

  predictXstartFromXprev(xT: Tensor, t: Tensor, xPrev: Tensor): Tensor {
    assertSameShape('predictXstartFromXprev', 'xPrev', xPrev, xT);
    // (x_{t-1} - coef2 x_t) / coef1
    return tidy(() => {
      const residual = xPrev.sub(this.extract(this.posteriorMeanCoef2, t, xT).mul(xT)); // [B, ...]
      return residual.div(this.extract(this.posteriorMeanCoef1, t, xT));
    });
  }

  predictEpsFromXstart(xT: Tensor, t: Tensor, predXstart: Tensor): Tensor {
    assertSameShape('predictEpsFromXstart', 'predXstart', predXstart, xT);
    return tidy(() => {
      const residual = this.extract(this.sqrtRecipAlphasCumprod, t, xT).mul(xT).sub(predXstart); // [B, ...]
      return residual.div(this.extract(this.sqrtRecipm1AlphasCumprod, t, xT));
    });
  }

  // ---- the reverse process p ---------------------------------------------------------------

  /**
   * Applies the model to get p(x_{t-1} | x_t) and the x_0 prediction. `t` holds timesteps of
   * this diffusion; the model sees them as original timesteps (see SpacedDiffusion).
   */
  async pMeanVariance<Cond>(model: DiffusionModel<Cond>, x: Tensor, t: Tensor, options: DenoiseOptions<Cond> = {}): Promise<PMeanVariance> {
    assertTimesteps('pMeanVariance', x, t);
    return tidyAsync(async () => {
      const output = await this.callModel('pMeanVariance', model, x, t, options.cond); // [B, ...]
      return this.meanVarianceFromOutput(output, x, t, options);
    });
  }

  /** Samples x_{t-1} from the model (DDPM ancestral step); no noise where t = 0. */
  async pSample<Cond>(model: DiffusionModel<Cond>, x: Tensor, t: Tensor, options: StepOptions<Cond> = {}): Promise<SampleResult> {
    // One scope for the step: everything but the sample and predXstart is freed (the noise too, unless passed in).
    return tidyAsync(async () => {
      const out = await this.pMeanVariance(model, x, t, options);
      const noise = this.stepNoise('pSample', x, options); // [B, ...]
      const std = exp(out.logVariance.mul(0.5)); // [B, 1, ...]
      const sample = out.mean.add(nonzeroMask(t, x.rank).mul(std).mul(noise)); // [B, ...]
      return { sample, predXstart: out.predXstart };
    });
  }

  /** DDPM ancestral sampling from x_T ~ N(0, I) over every timestep; returns x_0 (caller-owned). */
  async pSampleLoop<Cond>(model: DiffusionModel<Cond>, shape: readonly number[], options: LoopOptions<Cond> = {}): Promise<Tensor> {
    return lastSample(this.pSampleLoopProgressive(model, shape, options));
  }

  /** pSampleLoop as an async generator that yields every step (the progress API). */
  pSampleLoopProgressive<Cond>(model: DiffusionModel<Cond>, shape: readonly number[], options: LoopOptions<Cond> = {}): AsyncGenerator<SampleStep> {
    return this.sampleLoop('pSampleLoop', (x, t, stepOptions) => this.pSample(model, x, t, stepOptions), shape, options);
  }

  /** One DDIM step (Song et al. eq. 12) from x_t to x_{t-1}; eta = 0 is deterministic. */
  async ddimSample<Cond>(model: DiffusionModel<Cond>, x: Tensor, t: Tensor, options: StepOptions<Cond> & DdimOptions = {}): Promise<SampleResult> {
    const eta = options.eta ?? 0;
    const { sigma, epsCoef } = this.ddimTable(eta);
    // One scope for the step, as in pSample.
    return tidyAsync(async () => {
      const out = await this.pMeanVariance(model, x, t, options);
      const noise = eta > 0 ? this.stepNoise('ddimSample', x, options) : null; // [B, ...]
      // Re-derive epsilon from the x_0 prediction, whatever the model predicts.
      const eps = this.predictEpsFromXstart(x, t, out.predXstart); // [B, ...]
      const towardsX0 = out.predXstart.mul(this.extract(this.sqrtAlphasCumprodPrev, t, x)); // [B, ...]
      const meanPred = towardsX0.add(eps.mul(this.extract(epsCoef, t, x))); // [B, ...]
      if (!noise) return { sample: meanPred, predXstart: out.predXstart };
      const scaledNoise = noise.mul(this.extract(sigma, t, x)).mul(nonzeroMask(t, x.rank)); // [B, ...]
      return { sample: meanPred.add(scaledNoise), predXstart: out.predXstart };
    });
  }

  /** DDIM sampling from x_T ~ N(0, I) over every timestep of this diffusion; returns x_0 (caller-owned). */
  async ddimSampleLoop<Cond>(
    model: DiffusionModel<Cond>,
    shape: readonly number[],
    options: LoopOptions<Cond> & DdimOptions = {},
  ): Promise<Tensor> {
    return lastSample(this.ddimSampleLoopProgressive(model, shape, options));
  }

  /** ddimSampleLoop as an async generator that yields every step (the progress API). */
  ddimSampleLoopProgressive<Cond>(
    model: DiffusionModel<Cond>,
    shape: readonly number[],
    options: LoopOptions<Cond> & DdimOptions = {},
  ): AsyncGenerator<SampleStep> {
    this.ddimTable(options.eta ?? 0); // validates eta before the first step
    const eta = options.eta;
    return this.sampleLoop('ddimSampleLoop', (x, t, stepOptions) => this.ddimSample(model, x, t, { ...stepOptions, eta }), shape, options);
  }

  // ---- training -----------------------------------------------------------------------------

  /**
   * The training loss for one timestep per batch element: x_t = qSample(x_0, t, noise), then
   * the MSE between the model's output and its target (x_0, epsilon or the posterior mean, as
   * ModelMeanType says), averaged over all but the batch axis. Returns `loss` [B], which
   * carries gradients to the model's parameters; weight and average it, then backward().
   */
  async trainingLosses<Cond>(model: DiffusionModel<Cond>, xStart: Tensor, t: Tensor, options: TrainingLossOptions<Cond> = {}): Promise<{ loss: Tensor }> {
    assertTimesteps('trainingLosses', xStart, t);
    // One scope: only the loss survives (the tape keeps what backward needs).
    return tidyAsync(async () => {
      const noise = options.noise ?? randn(xStart.shape, { generator: generatorFrom('trainingLosses', options), device: xStart.device });
      assertSameShape('trainingLosses', 'noise', noise, xStart);
      const xT = this.qSample(xStart, t, { noise }); // [B, ...]
      const prediction = await this.callModel('trainingLosses', model, xT, t, options.cond, true); // [B, ...]
      const target = this.trainingTarget(xStart, xT, t, noise); // [B, ...]
      const diff = target.sub(prediction); // [B, ...]
      return { loss: meanFlat(diff.mul(diff)) }; // [B]
    });
  }

  // ---- internals ------------------------------------------------------------------------------

  /**
   * Calls the model on timesteps of this diffusion. Sampling runs the model's synchronous
   * part without recording gradients; an async model should use noGrad itself.
   */
  protected async callModel<Cond>(
    where: string,
    model: DiffusionModel<Cond>,
    x: Tensor,
    t: Tensor,
    cond: Cond | undefined,
    withGrad = false,
  ): Promise<Tensor> {
    const run = (): Tensor | Promise<Tensor> => model(x, t, cond as Cond);
    const output = await (withGrad ? run() : noGrad(run));
    if (output === x) throw new Error(`${where}: the model returned its input x_t; return a new tensor (the diffusion disposes the output)`);
    if (output === t) throw new Error(`${where}: the model returned its timestep tensor t; return a new tensor shaped like x_t`);
    if (!sameShape(output.shape, x.shape)) {
      output.dispose();
      throw new Error(`${where}: the model returned shape ${formatShape(output.shape)}, expected x_t's shape ${formatShape(x.shape)}`);
    }
    return output;
  }

  /** The original-process timestep of timestep `t` of this diffusion (identity here). */
  protected originalTimestep(t: number): number {
    return t;
  }

  /** Coefficients values[t[b]] as a float32 [B, 1, ...] tensor shaped to broadcast against `like`. */
  protected extract(values: Float64Array, t: Tensor, like: Tensor): Tensor {
    let table = this.float32Tables.get(values);
    if (!table) {
      table = Float32Array.from(values);
      this.float32Tables.set(values, table);
    }
    return extractIntoTensor(table, t, like.rank);
  }

  private posteriorMean(xStart: Tensor, xT: Tensor, t: Tensor): Tensor {
    const fromStart = this.extract(this.posteriorMeanCoef1, t, xT).mul(xStart); // [B, ...]
    return fromStart.add(this.extract(this.posteriorMeanCoef2, t, xT).mul(xT));
  }

  /** Runs inside a tidy scope: everything returned is new, everything else is disposed. */
  private meanVarianceFromOutput(output: Tensor, x: Tensor, t: Tensor, options: DenoiseOptions<unknown>): PMeanVariance {
    const process = (predXstart: Tensor): Tensor => {
      let processed = options.denoisedFn ? options.denoisedFn(predXstart) : predXstart;
      if (options.clipDenoised) processed = clamp(processed, -1, 1);
      return processed;
    };
    const variance = this.extract(this.modelVariance, t, x); // [B, 1, ...]
    const logVariance = this.extract(this.modelLogVariance, t, x); // [B, 1, ...]
    switch (this.modelMeanType) {
      case ModelMeanType.PREVIOUS_X: {
        const predXstart = process(this.predictXstartFromXprev(x, t, output)); // [B, ...]
        // A new handle on the output: the caller disposes `output` itself.
        return { mean: reshape(output, output.shape), variance, logVariance, predXstart };
      }
      case ModelMeanType.START_X:
      case ModelMeanType.EPSILON: {
        const raw = this.modelMeanType === ModelMeanType.START_X ? reshape(output, output.shape) : this.predictXstartFromEps(x, t, output);
        const predXstart = process(raw); // [B, ...]
        return { mean: this.posteriorMean(predXstart, x, t), variance, logVariance, predXstart };
      }
    }
  }

  private trainingTarget(xStart: Tensor, xT: Tensor, t: Tensor, noise: Tensor): Tensor {
    switch (this.modelMeanType) {
      case ModelMeanType.START_X:
        return xStart;
      case ModelMeanType.EPSILON:
        return noise;
      case ModelMeanType.PREVIOUS_X:
        return this.posteriorMean(xStart, xT, t);
    }
  }

  private stepNoise(where: string, x: Tensor, options: StepOptions<unknown>): Tensor {
    if (options.noise) {
      assertSameShape(where, 'noise', options.noise, x);
      return options.noise;
    }
    return randn(x.shape, { generator: generatorFrom(where, options), device: x.device });
  }

  private ddimTable(eta: number): { sigma: Float64Array; epsCoef: Float64Array } {
    if (!(Number.isFinite(eta) && eta >= 0)) throw new Error(`ddimSample: eta must be a finite number >= 0, got ${eta}`);
    let table = this.ddimTables.get(eta);
    if (!table) {
      const ab = this.alphasCumprod;
      const abPrev = this.alphasCumprodPrev;
      const sigma = ab.map((a, i) => eta * Math.sqrt((1 - abPrev[i]!) / (1 - a)) * Math.sqrt(1 - a / abPrev[i]!));
      // Rounding can push 1 - abPrev - sigma² a hair below 0 at t = 0 (where it is exactly 0).
      const epsCoef = sigma.map((s, i) => Math.sqrt(Math.max(0, 1 - abPrev[i]! - s * s)));
      table = { sigma, epsCoef };
      this.ddimTables.set(eta, table);
    }
    return table;
  }

  /** The shared body of every sampling loop: x_T, then one step per timestep from T-1 down to 0. */
  private async *sampleLoop<Cond>(where: string, step: Step<Cond>, shape: readonly number[], options: LoopOptions<Cond>): AsyncGenerator<SampleStep> {
    const { signal } = options;
    signal?.throwIfAborted();
    if (shape.length < 1) throw new Error(`${where}: shape must have a batch axis, got ${formatShape(shape)}`);
    const generator = generatorFrom(where, options);
    if (options.noise && !sameShape(options.noise.shape, shape)) {
      throw new Error(`${where}: noise has shape ${formatShape(options.noise.shape)}, expected ${formatShape(shape)}`);
    }
    let x = options.noise ?? randn(shape, { generator, device: options.device }); // [B, ...]
    let ownsX = x !== options.noise;
    let predXstart: Tensor | null = null;
    const slicer = new TimeSlicer();
    const total = this.numTimesteps;
    const stepOptions: StepOptions<Cond> = { cond: options.cond, clipDenoised: options.clipDenoised, denoisedFn: options.denoisedFn, generator };
    try {
      for (let index = 0; index < total; index++) {
        await slicer.tick();
        signal?.throwIfAborted();
        const t = total - 1 - index;
        const timesteps = full([shape[0]!], t, { dtype: 'int32', device: x.device }); // [B]
        let result: SampleResult;
        try {
          result = await step(x, timesteps, stepOptions);
        } finally {
          timesteps.dispose();
        }
        if (ownsX) x.dispose();
        predXstart?.dispose();
        x = result.sample;
        ownsX = true;
        predXstart = result.predXstart;
        yield { index, total, t, timestep: this.originalTimestep(t), sample: x, predXstart };
      }
    } finally {
      if (ownsX) x.dispose();
      predXstart?.dispose();
    }
  }
}

/** Drains a progressive loop and returns a caller-owned handle on its last sample. */
async function lastSample(steps: AsyncGenerator<SampleStep>): Promise<Tensor> {
  let final: Tensor | null = null;
  for await (const step of steps) {
    if (step.index === step.total - 1) final = step.sample.detach();
  }
  if (!final) throw new Error('sample loop: finished without a last step');
  return final;
}

/** 1 where t != 0, else 0, as float32 [B, 1, ...]: no noise is added on the last step. */
function nonzeroMask(t: Tensor, rank: number): Tensor {
  const keep = cast(notEqual(t, 0), 'float32'); // [B]
  return reshape(keep, [t.shape[0]!, ...new Array<number>(rank - 1).fill(1)]); // [B, 1, ...]
}

/** Mean over every axis but the batch axis: [B, ...] -> [B]. */
function meanFlat(x: Tensor): Tensor {
  if (x.rank === 1) return reshape(x, x.shape);
  return mean(x, Array.from({ length: x.rank - 1 }, (_, i) => i + 1));
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function assertSameShape(where: string, name: string, a: Tensor, x: Tensor): void {
  if (!sameShape(a.shape, x.shape)) {
    throw new Error(`${where}: ${name} has shape ${formatShape(a.shape)}, expected ${formatShape(x.shape)}`);
  }
}

function validateAlphasCumprod(values: ArrayLike<number>, betas: Float64Array): Float64Array {
  if (values.length !== betas.length) {
    throw new Error(`GaussianDiffusion: alphasCumprod has ${values.length} values, betas ${betas.length}`);
  }
  const out = Float64Array.from(values);
  let product = 1;
  for (let i = 0; i < out.length; i++) {
    product *= 1 - betas[i]!;
    if (!(Math.abs(out[i]! - product) <= 1e-9 * product)) {
      throw new Error(`GaussianDiffusion: alphasCumprod[${i}] = ${out[i]} is not the cumulative product of 1 - beta (${product})`);
    }
  }
  return out;
}
