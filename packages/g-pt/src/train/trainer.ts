// G.pt training (gpt-paper.md §4, §5b): the Gpt backbone learns to denoise future
// checkpoints θ₁ given the starting checkpoint θ₀ and both metrics, with the diffusion's
// x0-MSE at uniformly drawn timesteps; AdamW with the official weight-decay groups, a
// warmup + cosine (or constant) lr, optional gradient clipping, and an EMA of the weights
// (G_ema, the model handed to prompting). Everything random is drawn from seeded
// generators whose positions are part of the training state, so a resumed run continues
// bit for bit (train-state.ts).
import { openaiNormalizer, type PairBatch, type PairSampler } from '@gpt/checkpoints';
import type { CheckpointDataset } from '@gpt/checkpoints/node';
import { UniformSampler, createDiffusion, type GaussianDiffusion } from '@gpt/diffusion';
import { AdamW, EMA, clipGradNorm } from '@gpt/nn';
import { Generator, mean, noGrad, randn, tidyAsync, type Tensor } from '@gpt/tensor';
import { Gpt } from '@gpt/transformer';
import { createTask } from '../tasks/registry.js';
import type { TrainedGpt } from '../trained-gpt.js';
import { ensureDevice } from './device.js';
import { disposeBatch, pairTensors, x0Losses, type DiffusionBatch } from './diffusion-loss.js';
import { emaDecayAt, withDecay } from './ema-schedule.js';
import type { TrainEvent } from './events.js';
import { lrFactorAt } from './lr-schedule.js';
import { trainPreset, type TrainPreset, type TrainPresetName } from './presets.js';
import { resolveTrainConfig, stepsPerEpoch, type TrainConfig, type TrainConfigInput } from './train-config.js';
import { checkDatasetForTask, estimateNormalizer, heldOutPairs, openDataset, trainTestSplit, trainingPairs, type TrainTask } from './training-data.js';

/** Seeds of the independent random streams, derived from config.seed. */
const STREAM = { model: 0, pairs: 1, diffusion: 2, heldOutPairs: 3, heldOutNoise: 4 } as const;

/** What an evaluate callback returns: a score where larger is better (e.g. prompt alignment R²). */
export interface EvaluationResult {
  readonly score: number;
  /** Other numbers to log beside it. */
  readonly metrics?: Readonly<Record<string, number>>;
}

export type EvaluateCallback = (model: TrainedGpt, info: { step: number; signal?: AbortSignal }) => Promise<EvaluationResult>;

export interface TrainGptOptions extends TrainConfigInput {
  /** The checkpoint dataset: its folder or an opened CheckpointDataset. */
  readonly data: string | CheckpointDataset;
  /** The task (its network layout, permutation and metric) or its registry name. Default: the preset's task. */
  readonly task?: TrainTask | string;
  /** A preset name or preset; the other options override its fields. */
  readonly preset?: TrainPresetName | TrainPreset;
  /** "cpu" (default: the default device) or "webgpu". */
  readonly device?: string;
  /** Steps to train to (counting the steps of a resumed run). Default: the preset's, or all epochs of the cosine schedule. */
  readonly steps?: number;
  /** Test runs held out: the last ones in sorted order (default: the manifest's split). */
  readonly numTestRuns?: number;
  /** Held-out loss every this many steps (0: never; default: the preset's, else 100). */
  readonly evalEvery?: number;
  /** Size of the fixed held-out set of test-split pairs (default 256). */
  readonly evalPairs?: number;
  /** Called with the EMA model every `evaluateEvery` steps (e.g. prompt alignment); the best score's checkpoint is kept. */
  readonly evaluate?: EvaluateCallback;
  /** Default: evalEvery. */
  readonly evaluateEvery?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: TrainEvent) => void;
}

/** One step's numbers. */
export interface StepResult {
  readonly step: number;
  readonly loss: number;
  readonly lr: number;
  readonly gradNorm: number | null;
  readonly emaDecay: number;
}

export interface HistoryEntry {
  readonly step: number;
  readonly loss: number;
  readonly lr: number;
  readonly heldOutLoss?: number;
  readonly score?: number;
}

export interface TrainResult {
  /** The EMA model and what sampling needs (normalization, diffusion). */
  readonly trained: TrainedGpt;
  /** Per step of this call (a resumed run's earlier steps are in the output folder's log). */
  readonly history: readonly HistoryEntry[];
  readonly config: TrainConfig;
  readonly steps: number;
  readonly bestHeldOutLoss: number | null;
}

/** The plan of a run once options, preset and dataset are resolved. */
export interface TrainPlan {
  readonly task: TrainTask;
  readonly config: TrainConfig;
  readonly totalSteps: number;
  readonly device: string;
  readonly evalEvery: number;
  readonly evalPairs: number;
  readonly evaluateEvery: number;
}

/**
 * A training run in progress: the model, its optimizer and EMA, the pair stream and the
 * diffusion. `trainGpt` drives it; tests and callers may drive it step by step.
 */
export class GptTrainer {
  /** Completed optimizer steps. */
  step = 0;
  private readonly events: ((event: TrainEvent) => void) | undefined;
  private emaModel: Gpt | null = null;
  private readonly heldOutNoiseSeed: number;

  private constructor(
    readonly plan: TrainPlan,
    readonly dataset: CheckpointDataset,
    readonly split: { readonly train: readonly string[]; readonly test: readonly string[] },
    readonly normalizationCoefficient: number,
    readonly model: Gpt,
    readonly optimizer: AdamW,
    private averaged: EMA,
    readonly diffusion: GaussianDiffusion,
    private readonly pairs: PairSampler,
    /** Draws timesteps and noise. */
    private readonly generator: Generator,
    private readonly heldOut: PairBatch | null,
    /** Whether the trainer opened the dataset (and closes it in dispose). */
    private readonly ownsDataset: boolean,
    onProgress: ((event: TrainEvent) => void) | undefined,
  ) {
    this.events = onProgress;
    this.heldOutNoiseSeed = plan.config.seed * 16 + STREAM.heldOutNoise;
  }

  /** Resolves the options, opens and checks the dataset, estimates the normalization and builds the model. */
  static async create(options: TrainGptOptions, restoredCoefficient?: number): Promise<GptTrainer> {
    const where = 'trainGpt';
    const preset = options.preset === undefined ? undefined : typeof options.preset === 'string' ? trainPreset(options.preset) : options.preset;
    const taskInput = options.task ?? preset?.task;
    if (taskInput === undefined) throw new Error(`${where}: no task (give task or a preset)`);
    const task = typeof taskInput === 'string' ? await createTask(taskInput) : taskInput;
    const dataset = await openDataset(options.data, where);
    checkDatasetForTask(dataset, task, where);
    const split = trainTestSplit(dataset, options.numTestRuns, where);
    const config = resolveTrainConfig(preset?.config ?? {}, options, where);
    const perEpoch = stepsPerEpoch(config, split.train.length);
    const totalSteps = options.steps ?? preset?.steps ?? (config.schedule.kind === 'cosine' ? Math.ceil(config.schedule.epochs * perEpoch) : undefined);
    if (totalSteps === undefined) throw new Error(`${where}: steps is not set (the constant schedule has no natural end)`);
    if (!(Number.isSafeInteger(totalSteps) && totalSteps > 0)) throw new Error(`${where}: steps must be a positive integer, got ${totalSteps}`);
    const evalEvery = options.evalEvery ?? preset?.evalEvery ?? 100;
    const evalPairs = options.evalPairs ?? 256;
    for (const [name, v] of [['evalEvery', evalEvery], ['evalPairs', evalPairs], ['evaluateEvery', options.evaluateEvery ?? 0]] as const) {
      if (!(Number.isSafeInteger(v) && v >= 0)) throw new Error(`${where}: ${name} must be a non-negative integer, got ${v}`);
    }
    const device = await ensureDevice(options.device, where);
    const plan: TrainPlan = { task, config, totalSteps, device, evalEvery, evalPairs, evaluateEvery: options.evaluateEvery ?? evalEvery };
    const emit = options.onProgress;
    emit?.({ type: 'data', dataset: dataset.dir, task: task.name, trainRuns: split.train.length, testRuns: split.test.length, parameterCount: dataset.parameterCount });

    let coefficient = restoredCoefficient;
    if (coefficient === undefined) {
      const numSamples = config.normalizationSamples;
      const { normalizer, std } = await estimateNormalizer(dataset, split.train, numSamples, {
        signal: options.signal,
        onProgress: (e) => emit?.({ type: 'normalization-progress', done: e.done, total: e.total }),
      });
      coefficient = normalizer.coefficient;
      emit?.({ type: 'normalization', coefficient, std, numSamples, restored: false });
    } else {
      emit?.({ type: 'normalization', coefficient, std: null, numSamples: 0, restored: true });
    }
    const normalizer = openaiNormalizer(coefficient);
    const seed = (stream: number) => config.seed * 16 + stream;
    const pairs = await trainingPairs(dataset, task, split.train, normalizer, seed(STREAM.pairs));
    const heldOut = evalEvery > 0 && split.test.length > 0 && evalPairs > 0 ? await heldOutPairs(dataset, task, split.test, normalizer, evalPairs, seed(STREAM.heldOutPairs)) : null;

    const parameterSizes = task.tensors.map((t) => t.shape.reduce((a, b) => a * b, 1));
    const model = await new Gpt(parameterSizes, config.model, { seed: seed(STREAM.model) }).toAsync(device);
    const optimizer = new AdamW(model.weightDecayGroups(config.weightDecay), { lr: config.lr, betas: config.betas, weightDecay: config.weightDecay });
    const averaged = new EMA(model, emaDecayAt(config.ema, 1));
    const diffusion = createDiffusion({ steps: config.diffusionSteps, noiseSchedule: config.noiseSchedule, predictXstart: true });
    return new GptTrainer(plan, dataset, split, coefficient, model, optimizer, averaged, diffusion, pairs, new Generator(seed(STREAM.diffusion)), heldOut, typeof options.data === 'string', emit);
  }

  get config(): TrainConfig {
    return this.plan.config;
  }

  get ema(): EMA {
    return this.averaged;
  }

  get stepsPerEpoch(): number {
    return stepsPerEpoch(this.config, this.split.train.length);
  }

  /** The next batch of training pairs with its timesteps and noise, on the training device. */
  async drawBatch(signal?: AbortSignal): Promise<DiffusionBatch> {
    const pairs = await this.pairs.sample(this.config.batchSize, { signal });
    return this.withDiffusionDraws(pairTensors(pairs, this.plan.device), this.generator);
  }

  /** One optimizer step on `batch` (which stays the caller's): loss, backward, clip, AdamW, EMA. */
  async trainStep(batch: DiffusionBatch): Promise<StepResult> {
    const { config } = this;
    const lr = config.lr * lrFactorAt(config.schedule, this.step, this.stepsPerEpoch);
    for (const group of this.optimizer.paramGroups) group.lr = lr;
    const emaDecay = emaDecayAt(config.ema, this.step + 1);
    this.averaged = withDecay(this.averaged, this.model, emaDecay);
    const { loss, gradNorm } = await tidyAsync(async () => {
      const total = mean(await x0Losses(this.diffusion, this.model, batch)); // []: mean over B and D
      total.backward();
      const norm = config.gradClip === null ? null : clipGradNorm(this.model.parameters(), config.gradClip); // []
      this.optimizer.step();
      this.optimizer.zeroGrad();
      this.averaged.update(this.model);
      const [l, g] = await Promise.all([total.data(), norm?.data()]);
      return { loss: l[0]!, gradNorm: g ? g[0]! : null };
    });
    this.step += 1;
    return { step: this.step, loss, lr, gradNorm, emaDecay };
  }

  /**
   * Mean x0-MSE of the raw model (not the EMA, as the official test loss) over the fixed
   * held-out pairs, with timesteps and noise drawn the same way at every call; null
   * without test runs.
   */
  async heldOutLoss(): Promise<number | null> {
    const held = this.heldOut;
    if (!held) return null;
    const generator = new Generator(this.heldOutNoiseSeed);
    let sum = 0;
    for (let start = 0; start < held.size; start += this.config.batchSize) {
      const end = Math.min(held.size, start + this.config.batchSize);
      const batch = this.withDiffusionDraws(pairTensors(held, this.plan.device, start, end), generator);
      try {
        const losses = await noGrad(() => x0Losses(this.diffusion, this.model, batch)); // [b]
        const values = await losses.data();
        losses.dispose();
        for (const v of values) sum += v;
      } finally {
        disposeBatch(batch);
      }
    }
    return sum / held.size;
  }

  /** The EMA weights as a TrainedGpt (a model kept for it and refreshed at each call). */
  trainedGpt(): TrainedGpt {
    if (!this.emaModel) {
      this.emaModel = new Gpt(this.model.parameterSizes, this.config.model, { seed: 0 });
      this.emaModel.to(this.plan.device);
    }
    this.averaged.copyTo(this.emaModel);
    this.emaModel.eval();
    return {
      task: this.plan.task.name,
      config: this.config.model,
      model: this.emaModel,
      diffusionSteps: this.config.diffusionSteps,
      noiseSchedule: this.config.noiseSchedule,
      normalizationCoefficient: this.normalizationCoefficient,
      step: this.step,
    };
  }

  /**
   * Frees the model, optimizer state and EMA, and closes a dataset opened from a folder;
   * the TrainedGpt's model stays when `keepTrained`.
   */
  async dispose(keepTrained = false): Promise<void> {
    this.optimizer.dispose();
    this.averaged.dispose();
    this.model.dispose();
    if (!keepTrained) this.emaModel?.dispose();
    if (this.ownsDataset) await this.dataset.close();
  }

  emit(event: TrainEvent): void {
    this.events?.(event);
  }

  /** Timesteps t ~ U{0..T-1} and noise ε ~ N(0, I) for a batch of pairs, from `generator`. */
  private withDiffusionDraws(pairs: Pick<DiffusionBatch, 'theta0' | 'theta1' | 'metric0' | 'metric1'>, generator: Generator): DiffusionBatch {
    const rows = pairs.theta1.shape[0]!;
    const { timesteps, weights } = new UniformSampler(this.diffusion).sample(rows, { generator, device: this.plan.device }); // [B], [B]
    weights.dispose(); // all 1 for the uniform sampler
    const noise: Tensor = randn(pairs.theta1.shape, { generator, device: this.plan.device }); // [B, D]
    return { ...pairs, timesteps, noise };
  }
}

/**
 * Trains G.pt on a checkpoint dataset and returns the EMA model with its history. See
 * TrainGptOptions; presets are in presets.ts.
 */
export async function trainGpt(options: TrainGptOptions): Promise<TrainResult> {
  const trainer = await GptTrainer.create(options);
  let kept = false;
  try {
    const result = await runTraining(trainer, options);
    kept = true;
    return result;
  } finally {
    await trainer.dispose(kept);
  }
}

/** The loop: steps, periodic evaluation, progress events, abort between steps. */
export async function runTraining(trainer: GptTrainer, options: Pick<TrainGptOptions, 'signal' | 'evaluate'>): Promise<TrainResult> {
  const { plan } = trainer;
  const history: HistoryEntry[] = [];
  const started = performance.now();
  const firstStep = trainer.step;
  let bestHeldOutLoss: number | null = null;
  trainer.emit({
    type: 'start',
    step: trainer.step,
    totalSteps: plan.totalSteps,
    batchSize: plan.config.batchSize,
    stepsPerEpoch: trainer.stepsPerEpoch,
    modelParameters: trainer.model.parameters().reduce((n, p) => n + p.size, 0),
    device: plan.device,
    resumed: firstStep > 0,
  });
  if (firstStep === 0 && plan.evalEvery > 0) {
    // The starting point of the held-out curve: the identity model (θ̂₁ = θ₀) at step 0.
    const heldOutLoss = await trainer.heldOutLoss();
    if (heldOutLoss !== null) trainer.emit({ type: 'eval', step: 0, heldOutLoss, score: null, metrics: {}, best: false });
  }
  let aborted = false;
  while (trainer.step < plan.totalSteps) {
    if (options.signal?.aborted) {
      aborted = true;
      break;
    }
    const batch = await trainer.drawBatch(options.signal);
    let result: StepResult;
    try {
      result = await trainer.trainStep(batch);
    } finally {
      disposeBatch(batch);
    }
    const elapsed = (performance.now() - started) / 1000;
    const stepsPerSecond = (trainer.step - firstStep) / elapsed;
    trainer.emit({
      type: 'step',
      ...result,
      totalSteps: plan.totalSteps,
      epoch: trainer.step / trainer.stepsPerEpoch,
      stepsPerSecond,
      pairsPerSecond: stepsPerSecond * plan.config.batchSize,
      elapsedSeconds: elapsed,
      etaSeconds: (plan.totalSteps - trainer.step) / stepsPerSecond,
    });
    const entry: { -readonly [K in keyof HistoryEntry]: HistoryEntry[K] } = { step: result.step, loss: result.loss, lr: result.lr };
    const last = trainer.step === plan.totalSteps;
    const heldOutDue = plan.evalEvery > 0 && (trainer.step % plan.evalEvery === 0 || last);
    const evaluateDue = options.evaluate !== undefined && plan.evaluateEvery > 0 && (trainer.step % plan.evaluateEvery === 0 || last);
    if (heldOutDue || evaluateDue) {
      const heldOutLoss = heldOutDue ? await trainer.heldOutLoss() : null;
      const evaluation = evaluateDue ? await options.evaluate!(trainer.trainedGpt(), { step: trainer.step, signal: options.signal }) : null;
      let best = false;
      if (heldOutLoss !== null) {
        entry.heldOutLoss = heldOutLoss;
        if (bestHeldOutLoss === null || heldOutLoss < bestHeldOutLoss) {
          bestHeldOutLoss = heldOutLoss;
          best = true;
        }
      }
      if (evaluation) entry.score = evaluation.score;
      trainer.emit({ type: 'eval', step: trainer.step, heldOutLoss, score: evaluation?.score ?? null, metrics: evaluation?.metrics ?? {}, best });
    }
    history.push(entry);
  }
  const trained = trainer.trainedGpt();
  trainer.emit({ type: 'done', step: trainer.step, elapsedSeconds: (performance.now() - started) / 1000, aborted });
  if (aborted) options.signal!.throwIfAborted();
  return { trained, history, config: plan.config, steps: trainer.step, bestHeldOutLoss };
}
