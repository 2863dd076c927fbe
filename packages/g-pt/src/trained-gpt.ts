// What training hands to prompting and evaluation: a G.pt model ready to sample, with
// everything needed to turn a task's raw parameter vector into the model's input and
// back. Made by the trainer (train/), by loading a training checkpoint folder, or by
// loading the official pretrained .pt files (sample/official.ts).
import type { Gpt, GptConfig } from '@gpt/transformer';

export interface TrainedGpt {
  /** Task registry name the model was trained for, e.g. "mnist_error". */
  readonly task: string;
  /** The backbone config (token sizes follow from it and the task's tensors). */
  readonly config: GptConfig;
  /** The model to sample with: the EMA weights (G_ema) when the run kept an EMA. */
  readonly model: Gpt;
  /** Diffusion steps of training (1000 in the paper, linear betas, x0 prediction). */
  readonly diffusionSteps: number;
  /** The beta schedule name used in training ("linear" in the paper). */
  readonly noiseSchedule: 'linear' | 'cosine';
  /**
   * The global normalization (openai coefficient, gpt-paper.md §2.2): the model sees
   * coefficient x raw parameters; its samples are divided by it before evaluation.
   */
  readonly normalizationCoefficient: number;
  /** Training steps taken (0 for official weights, where it is unknown). */
  readonly step: number;
}
