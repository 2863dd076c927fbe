// G.pt training (gpt-paper.md §4, §5b): the Gpt backbone learns to denoise future
// checkpoints θ₁ given the starting checkpoint θ₀ and both metrics, with the diffusion's
// x0-MSE at uniformly drawn timesteps; AdamW with the official weight-decay groups, a
// warmup + cosine (or constant) lr, optional gradient clipping, and an EMA of the weights
// (G_ema, the model handed to prompting). Everything random is drawn from seeded
// generators whose positions are part of the training state, so a resumed run continues
// bit for bit (train-state.ts).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openaiNormalizer, type PairBatch, type PairSampler } from '@gpt/checkpoints';
import type { CheckpointDataset } from '@gpt/checkpoints/node';
import { UniformSampler, createDiffusion, type GaussianDiffusion } from '@gpt/diffusion';
import { AdamW, EMA, clipGradNorm, loadStateDictBytes, saveStateDict } from '@gpt/nn';
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
import { resumeOptions } from './resume.js';
import { TrainOutput } from './train-output.js';
import { writeLossPlot } from './loss-plot.js';
import { runTraining } from './training-loop.js';
import {
  STATE_FILES,
  STATE_FORMAT,
  STATE_FORMAT_VERSION,
  checkTokensCoverDataset,
  loadOptimizerInto,
  loadWeightsInto,
  type BestRecord,
  type SavedTrainState,
} from './train-state.js';
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
  /** Default: the preset's alignEvery, else evalEvery (100 when evalEvery is 0). */
  readonly evaluateEvery?: number;
  /** Start from these weights (e.g. converted official ones) instead of a fresh model; its config is the model config. */
  readonly init?: TrainedGpt;
  /** Output folder: training checkpoints, pointers and the JSONL log (none: nothing is written). */
  readonly out?: string;
  /** Continue the run saved in `out` (starts fresh when `out` holds no checkpoint yet). */
  readonly resume?: boolean;
  /** Write the training state every this many steps (default: the preset's, else 1000); also at the end and on abort. */
  readonly checkpointEvery?: number;
  /**
   * A wall-clock budget for this call, in seconds: training stops after the step that
   * reaches it (at least one step), saves like at the end, and returns normally with
   * stoppedBy "time"; a resume continues towards `steps`.
   */
  readonly maxSeconds?: number;
  /** Skip fsync when writing checkpoints (tests only: not crash-safe). */
  readonly noSync?: boolean;
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
  /** Why the loop ended: the step count, or the maxSeconds budget. */
  readonly stoppedBy: 'steps' | 'time';
  /** The loss curves of the whole run (<out>/loss.svg), when the run has an output folder. */
  readonly lossPlot?: string;
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
  readonly checkpointEvery: number;
}

/**
 * A training run in progress: the model, its optimizer and EMA, the pair stream and the
 * diffusion. `trainGpt` drives it; tests and callers may drive it step by step.
 */
export class GptTrainer {
  /** Completed optimizer steps. */
  step = 0;
  /** The best evaluation so far (by the evaluate callback's score when there is one, else the held-out loss). */
  best: BestRecord | null = null;
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
    try {
      return await GptTrainer.build(options, preset, task, dataset, restoredCoefficient);
    } catch (error) {
      if (typeof options.data === 'string') await dataset.close();
      throw error;
    }
  }

  private static async build(
    options: TrainGptOptions,
    preset: TrainPreset | undefined,
    task: TrainTask,
    dataset: CheckpointDataset,
    restoredCoefficient: number | undefined,
  ): Promise<GptTrainer> {
    const where = 'trainGpt';
    checkDatasetForTask(dataset, task, where);
    const split = trainTestSplit(dataset, options.numTestRuns, where);
    const config = resolveTrainConfig(preset?.config ?? {}, options.init ? { ...options, model: options.init.config } : options, where);
    const perEpoch = stepsPerEpoch(config, split.train.length);
    const totalSteps = options.steps ?? preset?.steps ?? (config.schedule.kind === 'cosine' ? Math.ceil(config.schedule.epochs * perEpoch) : undefined);
    if (totalSteps === undefined) throw new Error(`${where}: steps is not set (the constant schedule has no natural end)`);
    if (!(Number.isSafeInteger(totalSteps) && totalSteps > 0)) throw new Error(`${where}: steps must be a positive integer, got ${totalSteps}`);
    const evalEvery = options.evalEvery ?? preset?.evalEvery ?? 100;
    const evalPairs = options.evalPairs ?? 256;
    const checkpointEvery = options.checkpointEvery ?? preset?.checkpointEvery ?? 1000;
    if (options.maxSeconds !== undefined && !(options.maxSeconds >= 0)) throw new Error(`${where}: maxSeconds must be a non-negative number, got ${options.maxSeconds}`);
    for (const [name, v] of [['evalEvery', evalEvery], ['evalPairs', evalPairs], ['evaluateEvery', options.evaluateEvery ?? 0], ['checkpointEvery', checkpointEvery]] as const) {
      if (!(Number.isSafeInteger(v) && v >= 0)) throw new Error(`${where}: ${name} must be a non-negative integer, got ${v}`);
    }
    const device = await ensureDevice(options.device, where);
    // A callback given without a cadence runs with the held-out loss (or every 100 steps when that is off).
    const evaluateEvery = options.evaluateEvery ?? preset?.alignEvery ?? (evalEvery > 0 ? evalEvery : 100);
    const plan: TrainPlan = { task, config, totalSteps, device, evalEvery, evalPairs, evaluateEvery, checkpointEvery };
    const parameterSizes = task.tensors.map((t) => t.shape.reduce((a, b) => a * b, 1));
    if (options.init) {
      if (options.init.task !== task.name) throw new Error(`${where}: init is a G.pt for task "${options.init.task}", not "${task.name}"`);
      checkTokensCoverDataset(options.init.model.parameterSizes, options.init.config, dataset.parameterCount, `${where}: init model`);
    }
    checkTokensCoverDataset(parameterSizes, config.model, dataset.parameterCount, `${where}: model config`);
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

    const model = new Gpt(parameterSizes, config.model, { seed: seed(STREAM.model) });
    if (options.init) {
      // Through safetensors bytes: an async read, so the weights may live on any device.
      const dict = loadStateDictBytes(await saveStateDict(options.init.model));
      try {
        model.loadStateDict(dict);
      } finally {
        for (const t of Object.values(dict)) t.dispose();
      }
    }
    await model.toAsync(device);
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
    this.model.eval(); // no dropout while measuring (the paper configs have none; a custom one may)
    try {
      // Chunks of at least 64 pairs: a small training batch would make this many small forward passes.
      const chunk = Math.max(this.config.batchSize, 64);
      for (let start = 0; start < held.size; start += chunk) {
        const end = Math.min(held.size, start + chunk);
        const batch = this.withDiffusionDraws(pairTensors(held, this.plan.device, start, end), generator);
        try {
          // The diffusion calls the model before its first await, so the forward runs inside noGrad (tested).
          const losses = await noGrad(() => x0Losses(this.diffusion, this.model, batch)); // [b]
          const values = await losses.data();
          losses.dispose();
          for (const v of values) sum += v;
        } finally {
          disposeBatch(batch);
        }
      }
    } finally {
      this.model.train();
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

  /** Everything but the tensors, for state.json. */
  savedState(): SavedTrainState {
    const { plan, dataset } = this;
    const { key, counter } = this.generator.getState();
    return {
      format: STATE_FORMAT,
      formatVersion: STATE_FORMAT_VERSION,
      task: plan.task.name,
      dataset: { dir: dataset.dir, task: dataset.manifest.task, parameterCount: dataset.parameterCount, trainRuns: this.split.train.length, testRuns: this.split.test.length },
      parameterSizes: [...this.model.parameterSizes],
      config: plan.config,
      plan: { totalSteps: plan.totalSteps, evalEvery: plan.evalEvery, evalPairs: plan.evalPairs, evaluateEvery: plan.evaluateEvery },
      step: this.step,
      epoch: this.step / this.stepsPerEpoch,
      normalizationCoefficient: this.normalizationCoefficient,
      random: { pairs: this.pairs.state(), diffusion: { key: [key[0], key[1]], counter } },
      best: this.best,
    };
  }

  /** Continues from a checkpoint folder written for this run (same task, dataset and config; checked by the caller). */
  async restore(checkpointDir: string, state: SavedTrainState): Promise<void> {
    if (state.parameterSizes.join(',') !== this.model.parameterSizes.join(',')) {
      throw new Error(`${checkpointDir}: the saved model has tensors of sizes [${state.parameterSizes.join(', ')}], this run's task [${this.model.parameterSizes.join(', ')}]`);
    }
    await loadWeightsInto(this.model, join(checkpointDir, STATE_FILES.model));
    await loadOptimizerInto(this.optimizer, join(checkpointDir, STATE_FILES.optimizer));
    // The EMA: the saved G_ema's parameters (its buffers are the model's own).
    const file = join(checkpointDir, STATE_FILES.ema);
    const dict = loadStateDictBytes(new Uint8Array(await readFile(file)), { name: file, device: this.plan.device });
    try {
      this.averaged = withDecay(this.averaged, this.model, emaDecayAt(this.config.ema, Math.max(1, state.step)));
      const names = new Set(this.averaged.shadow.keys());
      this.averaged.loadStateDict(Object.fromEntries(Object.entries(dict).filter(([k]) => names.has(k))));
    } finally {
      for (const t of Object.values(dict)) t.dispose();
    }
    this.pairs.restore(state.random.pairs);
    this.generator.setState(state.random.diffusion);
    this.step = state.step;
    this.best = state.best;
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

  /** Records an evaluation at the current step; true when it is the best so far. */
  recordEvaluation(candidate: { by: BestRecord['by']; value: number } | null): boolean {
    if (candidate === null || !Number.isFinite(candidate.value)) return false;
    const better = this.best === null || this.best.by !== candidate.by || (candidate.by === 'score' ? candidate.value > this.best.value : candidate.value < this.best.value);
    if (better) this.best = { ...candidate, step: this.step };
    return better;
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
 * Trains G.pt on a checkpoint dataset and returns the EMA model with its history. With
 * `out`, the training state is saved there (see train-state.ts) and `resume` continues it.
 */
export async function trainGpt(options: TrainGptOptions): Promise<TrainResult> {
  const output = options.out === undefined ? null : await TrainOutput.open(options.out, options);
  let trainer: GptTrainer | null = null;
  let kept = false;
  try {
    const saved = output?.resumeFrom ?? null;
    // Every event also goes to the output folder's log, from the dataset checks on.
    const onProgress = output ? (event: TrainEvent) => (output.log.write(event), options.onProgress?.(event)) : options.onProgress;
    const effective = { ...(saved ? resumeOptions(options, saved.state) : options), onProgress };
    trainer = await GptTrainer.create(effective, saved?.state.normalizationCoefficient);
    if (saved) await trainer.restore(saved.dir, saved.state);
    const result = await runTraining(trainer, effective, output);
    kept = true;
    if (!output) return result;
    await output.close(); // the log is complete before the plot reads it
    const lossPlot = await writeLossPlot(output.dir, `G.pt training (${trainer.plan.task.name})`);
    return lossPlot === null ? result : { ...result, lossPlot };
  } finally {
    await trainer?.dispose(kept);
    await output?.close();
  }
}
