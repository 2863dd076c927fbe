// The hyper-parameters of one G.pt training run, as one JSON value: it is stored in every
// training checkpoint (a resumed run continues with exactly these) and printed by the
// CLI. Presets (presets.ts) fill it; trainGpt's options override single fields.
import { resolveGptConfig, type GptConfig, type GptPresetName } from '@gpt/transformer';
import { checkEmaConfig, type EmaConfig } from './ema-schedule.js';
import { checkLrSchedule, type LrScheduleConfig } from './lr-schedule.js';

export interface TrainConfig {
  /** The backbone (a full GptConfig; token sizes follow from it and the task's tensors). */
  readonly model: GptConfig;
  /** Pairs per step (the paper's global batch). */
  readonly batchSize: number;
  /** Base learning rate of AdamW. */
  readonly lr: number;
  /** AdamW's decoupled weight decay, on Linear weights only (the official groups). */
  readonly weightDecay: number;
  readonly betas: readonly [number, number];
  /** Clip the gradients' global norm to this (null: no clipping, as the paper's Cartpole). */
  readonly gradClip: number | null;
  readonly schedule: LrScheduleConfig;
  /**
   * Examples per "epoch" (the official target_epoch_size, 100,800 or 806,400): an epoch is
   * nRuns x floor(epochSize / nRuns) pairs, so every run is visited equally often, and
   * floor(that / batchSize) steps. Only the cosine schedule's position depends on it.
   */
  readonly epochSize: number;
  readonly ema: EmaConfig;
  /** Diffusion: T steps with this beta schedule, x0 prediction, fixed large variance. */
  readonly diffusionSteps: number;
  readonly noiseSchedule: 'linear' | 'cosine';
  /** Checkpoints sampled to estimate the openai normalization constant (official 25,000). */
  readonly normalizationSamples: number;
  /** Seeds the model's initialization, the pair stream, timesteps and noise. */
  readonly seed: number;
}

/** The paper's diffusion and optimizer settings; presets set the rest. */
export const TRAIN_CONFIG_DEFAULTS = {
  weightDecay: 0.1,
  betas: [0.9, 0.999] as const,
  diffusionSteps: 1000,
  noiseSchedule: 'linear' as const,
  normalizationSamples: 25_000,
  seed: 0,
};

/** What callers may give: any field, the model as a preset name or partial config. */
export type TrainConfigInput = Partial<Omit<TrainConfig, 'model'>> & { readonly model?: GptPresetName | Partial<GptConfig> | GptConfig };

/** Steps per epoch for `numTrainRuns` training runs (official: len(loader) with drop_last). */
export function stepsPerEpoch(config: Pick<TrainConfig, 'epochSize' | 'batchSize'>, numTrainRuns: number): number {
  const examples = numTrainRuns * Math.floor(config.epochSize / numTrainRuns);
  return Math.max(1, Math.floor(examples / config.batchSize));
}

/** A full config from `base` with `overrides`; every field checked, errors name it. */
export function resolveTrainConfig(base: TrainConfigInput, overrides: TrainConfigInput = {}, where = 'trainGpt'): TrainConfig {
  const merged = { ...TRAIN_CONFIG_DEFAULTS, ...base, ...definedFields(overrides) };
  const modelInput = overrides.model ?? base.model;
  if (modelInput === undefined) throw new Error(`${where}: no model config (give a preset or a model)`);
  let model: GptConfig;
  try {
    model = resolveGptConfig(typeof modelInput === 'string' ? modelInput : { ...(typeof base.model === 'object' ? base.model : {}), ...modelInput });
  } catch (error) {
    throw new Error(`${where}: model: ${(error as Error).message}`);
  }
  const config: TrainConfig = {
    model,
    batchSize: need(merged.batchSize, 'batchSize', where),
    lr: need(merged.lr, 'lr', where),
    weightDecay: merged.weightDecay,
    betas: [merged.betas[0], merged.betas[1]],
    gradClip: merged.gradClip ?? null,
    schedule: need(merged.schedule, 'schedule', where),
    epochSize: need(merged.epochSize, 'epochSize', where),
    ema: need(merged.ema, 'ema', where),
    diffusionSteps: merged.diffusionSteps,
    noiseSchedule: merged.noiseSchedule,
    normalizationSamples: merged.normalizationSamples,
    seed: merged.seed,
  };
  checkTrainConfig(config, where);
  return config;
}

function definedFields<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function need<T>(value: T | undefined, name: string, where: string): T {
  if (value === undefined) throw new Error(`${where}: ${name} is not set (give a preset or ${name})`);
  return value;
}

export function checkTrainConfig(c: TrainConfig, where: string): void {
  const positiveInteger = (name: string, v: number) => {
    if (!(Number.isSafeInteger(v) && v > 0)) throw new Error(`${where}: ${name} must be a positive integer, got ${v}`);
  };
  positiveInteger('batchSize', c.batchSize);
  positiveInteger('epochSize', c.epochSize);
  positiveInteger('diffusionSteps', c.diffusionSteps);
  positiveInteger('normalizationSamples', c.normalizationSamples);
  if (!(Number.isFinite(c.lr) && c.lr > 0)) throw new Error(`${where}: lr must be a positive number, got ${c.lr}`);
  if (!(Number.isFinite(c.weightDecay) && c.weightDecay >= 0)) throw new Error(`${where}: weightDecay must be a non-negative number, got ${c.weightDecay}`);
  if (c.gradClip !== null && !(Number.isFinite(c.gradClip) && c.gradClip > 0)) throw new Error(`${where}: gradClip must be a positive number or null, got ${c.gradClip}`);
  if (!Number.isSafeInteger(c.seed)) throw new Error(`${where}: seed must be an integer, got ${c.seed}`);
  if (c.noiseSchedule !== 'linear' && c.noiseSchedule !== 'cosine') throw new Error(`${where}: noiseSchedule must be "linear" or "cosine", got ${JSON.stringify(c.noiseSchedule)}`);
  if (c.model.diffusionSteps !== c.diffusionSteps) {
    throw new Error(`${where}: the model refuses t >= ${c.model.diffusionSteps} but the diffusion has ${c.diffusionSteps} steps; set both to the same value`);
  }
  if (!c.model.predictXstart) throw new Error(`${where}: model.predictXstart must be true: G.pt trains x0 prediction (MSE on the clean future parameters)`);
  checkLrSchedule(c.schedule, where);
  checkEmaConfig(c.ema, where);
}
