// Training presets: the paper's five configurations (gpt-paper.md §3.6 model, §4.3
// optimization; configs/train/*.yaml of the official code) and small ones that train on
// a 2-core CPU in minutes to an hour, after the small-scale reference runs of §8.
import { GPT_PRESETS } from '@gpt/transformer';
import type { TrainConfigInput } from './train-config.js';

export interface TrainPreset {
  /** The task registry name the preset is for (its metric and dataset family). */
  readonly task: string;
  readonly description: string;
  /** Steps a run takes unless told otherwise (the paper's: all epochs at the released data size). */
  readonly steps?: number;
  /** Held-out loss every this many steps (official test.freq, here in steps). */
  readonly evalEvery: number;
  /** Training state written every this many steps. */
  readonly checkpointEvery: number;
  /** Prompt alignment of the EMA model every this many steps (the best is kept; `gpt train` wires it, see alignment-evaluator.ts). */
  readonly alignEvery: number;
  readonly config: TrainConfigInput;
}

/** AdamW 4e-4, wd 0.1, clip 0.75, 2000 epochs of 100,800 pairs, warmup 5, EMA 0.9999 (MNIST, §4.3). */
const PAPER_MNIST = {
  model: GPT_PRESETS.mnist,
  lr: 4e-4,
  weightDecay: 0.1,
  gradClip: 0.75,
  schedule: { kind: 'cosine', epochs: 2000, warmupEpochs: 5 },
  epochSize: 100_800,
  ema: { decay: 0.9999 },
} as const satisfies TrainConfigInput;

/** CIFAR-10: d 2048, batch 550, clip 0.1, 15,000 epochs (the loss test config samples with batch 500). */
const PAPER_CIFAR10 = {
  model: GPT_PRESETS.cifar10,
  batchSize: 550,
  lr: 4e-4,
  weightDecay: 0.1,
  gradClip: 0.1,
  schedule: { kind: 'cosine', epochs: 15_000, warmupEpochs: 5 },
  epochSize: 100_800,
  ema: { decay: 0.9999 },
} as const satisfies TrainConfigInput;

/**
 * Small models (d 256, 4 layers, 4 heads, about 10M parameters for MNIST's D = 7,960) with
 * the §8 reference recipe that trained the 9.5M model: batch 64, AdamW 4e-4, wd 0.1, clip
 * 0.75, 200 warmup steps then a constant lr (a cosine over a short CPU run would spend
 * most of it at a small lr), EMA 0.99 for the first 1,000 steps then 0.999 (0.9999 would
 * average over ~10,000 steps, longer than the run). Batch 64 keeps one step near a second
 * on two cores; the §8 run used batch 64 for 5,078 steps.
 */
const SMALL_COMMON = {
  batchSize: 64,
  lr: 4e-4,
  weightDecay: 0.1,
  gradClip: 0.75,
  schedule: { kind: 'constant', warmupSteps: 200 },
  epochSize: 100_800,
  ema: { decay: 0.999, earlyDecay: 0.99, earlySteps: 1000 },
} as const satisfies TrainConfigInput;

export const TRAIN_PRESETS = {
  mnist_loss: {
    task: 'mnist_loss',
    description: "the paper's MNIST test-loss G.pt: 12 x 1536 (378M), batch 1024, 2000 epochs",
    evalEvery: 5000,
    checkpointEvery: 5000,
    alignEvery: 25_000,
    config: { ...PAPER_MNIST, batchSize: 1024 },
  },
  mnist_error: {
    task: 'mnist_error',
    description: "the paper's MNIST test-error G.pt: 12 x 1536 (378M), batch 512, 2000 epochs",
    evalEvery: 5000,
    checkpointEvery: 5000,
    alignEvery: 25_000,
    config: { ...PAPER_MNIST, batchSize: 512 },
  },
  cifar10_loss: {
    task: 'cifar10_loss',
    description: "the paper's CIFAR-10 test-loss G.pt: 12 x 2048 (640M), batch 550, 15000 epochs",
    evalEvery: 5000,
    checkpointEvery: 5000,
    alignEvery: 25_000,
    config: PAPER_CIFAR10,
  },
  cifar10_error: {
    task: 'cifar10_error',
    description: "the paper's CIFAR-10 test-error G.pt: 12 x 2048 (640M), batch 550, 15000 epochs",
    evalEvery: 5000,
    checkpointEvery: 5000,
    alignEvery: 25_000,
    config: PAPER_CIFAR10,
  },
  cartpole: {
    task: 'cartpole',
    description: "the paper's Cartpole G.pt: 12 x 1536, 12 heads (347M), batch 8192, lr 2e-4, no clipping, 2000 epochs of 806,400",
    evalEvery: 5000,
    checkpointEvery: 5000,
    alignEvery: 25_000,
    config: {
      model: GPT_PRESETS.cartpole,
      batchSize: 8192,
      lr: 2e-4,
      weightDecay: 0.1,
      gradClip: null,
      schedule: { kind: 'cosine', epochs: 2000, warmupEpochs: 10 },
      epochSize: 806_400,
      ema: { decay: 0.9999 },
    },
  },
  'mnist-small': {
    task: 'mnist_error',
    description: 'CPU-sized MNIST test-error G.pt: 4 x 256, 4 heads, tokens of <= 1000 within a layer (paper tokenization), batch 64, 5000 steps',
    steps: 5000,
    evalEvery: 250,
    checkpointEvery: 500,
    alignEvery: 1000,
    config: { ...SMALL_COMMON, model: GPT_PRESETS.mnistSmall },
  },
  'cifar10-small': {
    task: 'cifar10_error',
    description: 'CPU-sized CIFAR-10 test-error G.pt: 4 x 256, 4 heads, tokens of <= 576, batch 64, clip 0.1 (the paper CIFAR value), 5000 steps',
    steps: 5000,
    evalEvery: 250,
    checkpointEvery: 500,
    alignEvery: 1000,
    config: { ...SMALL_COMMON, gradClip: 0.1, model: GPT_PRESETS.cifar10Small },
  },
  'cartpole-small': {
    task: 'cartpole',
    description: 'CPU-sized Cartpole G.pt: 4 x 256, 4 heads, one token per tensor, batch 64, lr 2e-4 (the paper Cartpole value), no clipping, 5000 steps',
    steps: 5000,
    evalEvery: 250,
    checkpointEvery: 500,
    alignEvery: 1000,
    config: { ...SMALL_COMMON, lr: 2e-4, gradClip: null, model: GPT_PRESETS.cartpoleSmall },
  },
} as const satisfies Record<string, TrainPreset>;

export type TrainPresetName = keyof typeof TRAIN_PRESETS;

/** The preset named `name`; an unknown name is an error listing the known ones. */
export function trainPreset(name: string): TrainPreset {
  const preset = (TRAIN_PRESETS as Record<string, TrainPreset>)[name];
  if (!preset) throw new Error(`unknown training preset "${name}"; known presets: ${Object.keys(TRAIN_PRESETS).join(', ')}`);
  return preset;
}
