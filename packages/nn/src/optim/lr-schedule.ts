// Learning-rate schedules as plain functions of the (fractional) epoch that return a
// multiplier of each group's initial lr, so they compose by multiplication and can be
// evaluated per step (epoch = step / stepsPerEpoch) or per epoch (wrap in perEpoch).
// These are G.pt's formulas: cosine 0.5 (1 + cos(pi e / E)) and a linear warmup from
// `startFactor` to 1 over the first W epochs (Gpt/utils.py update_lr).

import type { BaseOptions, Optimizer } from './optimizer.js';

/** epoch -> lr multiplier. */
export type LrSchedule = (epoch: number) => number;

function checkPositive(name: string, option: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0)) throw new Error(`${name}: ${option} must be a positive number, got ${value}`);
}

/** Cosine decay from 1 at epoch 0 to 0 at `totalEpochs` (and 0 after). */
export function cosineDecay(totalEpochs: number): LrSchedule {
  checkPositive('cosineDecay', 'totalEpochs', totalEpochs);
  return (epoch) => (epoch >= totalEpochs ? 0 : 0.5 * (1 + Math.cos((Math.PI * epoch) / totalEpochs)));
}

/** Linear ramp from `startFactor` at epoch 0 to 1 at `warmupEpochs`, then 1. */
export function linearWarmup(warmupEpochs: number, startFactor = 0): LrSchedule {
  checkPositive('linearWarmup', 'warmupEpochs', warmupEpochs);
  return (epoch) => {
    if (epoch >= warmupEpochs) return 1;
    const alpha = epoch / warmupEpochs;
    return startFactor * (1 - alpha) + alpha;
  };
}

/** The product of several schedules (e.g. warmup then cosine, as in G.pt). */
export function composeSchedules(...schedules: LrSchedule[]): LrSchedule {
  return (epoch) => schedules.reduce((factor, s) => factor * s(epoch), 1);
}

/** Holds the value of `schedule` at the start of each epoch: stepped once per epoch. */
export function perEpoch(schedule: LrSchedule): LrSchedule {
  return (epoch) => schedule(Math.floor(epoch));
}

/** Sets every group's lr to its initial lr times `schedule(epoch)`; returns the multiplier. */
export function applyLrSchedule<O extends BaseOptions>(optimizer: Optimizer<O>, schedule: LrSchedule, epoch: number): number {
  if (!Number.isFinite(epoch)) throw new Error(`applyLrSchedule: epoch must be a finite number, got ${epoch}`);
  const factor = schedule(epoch);
  for (const group of optimizer.paramGroups) group.lr = group.initialLr * factor;
  return factor;
}
