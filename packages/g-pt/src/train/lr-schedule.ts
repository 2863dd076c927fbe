// G.pt's learning-rate schedules, as a multiplier of the base lr at a training step.
// The paper's (Gpt/utils.py update_lr): a linear warmup from 0 over the first warmup
// epochs times a cosine over all epochs, both evaluated at the fractional epoch of each
// iteration. The small-scale reference (gpt-paper.md §8): a linear warmup over a number
// of steps, then constant. The formulas themselves are @gpt/nn's.
import { composeSchedules, cosineDecay, linearWarmup, type LrSchedule } from '@gpt/nn';

/** How the lr moves over training (a JSON value, stored in the training state). */
export type LrScheduleConfig =
  /** The paper: linear warmup over `warmupEpochs`, cosine to 0 at `epochs` (fractional epochs). */
  | { readonly kind: 'cosine'; readonly epochs: number; readonly warmupEpochs: number }
  /** The §8 reference: linear warmup over `warmupSteps` steps, then the base lr. */
  | { readonly kind: 'constant'; readonly warmupSteps: number };

/** Epoch -> multiplier for the cosine kind, step -> multiplier for the constant kind. */
function scheduleOf(config: LrScheduleConfig): LrSchedule {
  if (config.kind === 'cosine') {
    const cosine = cosineDecay(config.epochs);
    return config.warmupEpochs > 0 ? composeSchedules(linearWarmup(config.warmupEpochs), cosine) : cosine;
  }
  return config.warmupSteps > 0 ? linearWarmup(config.warmupSteps) : () => 1;
}

/**
 * The lr multiplier of the update that follows `completedSteps` steps. As in the official
 * loop, the position is the one before the update, so a warmup's first update has lr 0
 * (it still moves Adam's moments and the EMA).
 */
export function lrFactorAt(config: LrScheduleConfig, completedSteps: number, stepsPerEpoch: number): number {
  const schedule = scheduleOf(config);
  return config.kind === 'cosine' ? schedule(completedSteps / stepsPerEpoch) : schedule(completedSteps);
}

/** Checks a schedule config; errors name the field. */
export function checkLrSchedule(config: LrScheduleConfig, where: string): void {
  const nonNegative = (name: string, v: number) => {
    if (!(Number.isFinite(v) && v >= 0)) throw new Error(`${where}: schedule.${name} must be a non-negative number, got ${v}`);
  };
  if (config.kind === 'cosine') {
    if (!(Number.isFinite(config.epochs) && config.epochs > 0)) throw new Error(`${where}: schedule.epochs must be a positive number, got ${config.epochs}`);
    nonNegative('warmupEpochs', config.warmupEpochs);
  } else if (config.kind === 'constant') {
    nonNegative('warmupSteps', config.warmupSteps);
  } else {
    throw new Error(`${where}: schedule.kind must be "cosine" or "constant", got ${JSON.stringify((config as { kind?: unknown }).kind)}`);
  }
}
