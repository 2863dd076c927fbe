// The EMA of G.pt's weights (G_ema, the model that is evaluated) and its decay over
// training: one decay throughout (the paper: 0.9999), or a smaller one for the first
// steps so that the average is not dominated by the random initialization in a short
// run (the §8 reference: 0.99, then 0.999 after 1,000 steps).
import { EMA, type Module } from '@gpt/nn';

export interface EmaConfig {
  /** Decay after the early phase (the paper: 0.9999). */
  readonly decay: number;
  /** Decay during the first `earlySteps` updates (default: `decay` throughout). */
  readonly earlyDecay?: number;
  readonly earlySteps?: number;
}

/** The decay used by the update that completes step `step` (1-based). */
export function emaDecayAt(config: EmaConfig, step: number): number {
  return config.earlyDecay !== undefined && step <= (config.earlySteps ?? 0) ? config.earlyDecay : config.decay;
}

export function checkEmaConfig(config: EmaConfig, where: string): void {
  for (const [name, v] of [['decay', config.decay], ['earlyDecay', config.earlyDecay]] as const) {
    if (v !== undefined && !(v >= 0 && v <= 1)) throw new Error(`${where}: ema.${name} must be in [0, 1], got ${v}`);
  }
  const s = config.earlySteps;
  if (s !== undefined && !(Number.isSafeInteger(s) && s >= 0)) throw new Error(`${where}: ema.earlySteps must be a non-negative integer, got ${s}`);
}

/**
 * `ema` with decay `decay`: itself when it already has it, else a new EMA holding the same
 * averages (@gpt/nn's EMA fixes its decay at construction); the old one is disposed.
 */
export function withDecay(ema: EMA, module: Module, decay: number): EMA {
  if (ema.decay === decay) return ema;
  const next = new EMA(module, decay);
  const averages = ema.stateDict();
  try {
    next.loadStateDict(averages);
  } finally {
    for (const t of Object.values(averages)) t.dispose();
  }
  ema.dispose();
  return next;
}
