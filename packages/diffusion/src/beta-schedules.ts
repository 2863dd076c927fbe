// Beta schedules: the noise added at each of the T forward steps, in float64.
//
// The library is append-only: a schedule may be added, but an existing name must never change
// its values, because trained models (and their checkpoints) depend on the exact betas.
// Every schedule is defined so that it stays similar as T grows (guided-diffusion's rule).

/** A beta schedule: T betas in (0, 1], one per forward step. */
export type BetaSchedule = (numTimesteps: number) => Float64Array;

/**
 * Ho et al. (2020)'s linear schedule from 1e-4 to 0.02, scaled by 1000/T so that any T
 * gives a process close to the 1000-step one. Values follow numpy.linspace exactly
 * (start + i * step, last value set to the end point).
 */
export function linearBetaSchedule(numTimesteps: number): Float64Array {
  assertTimestepCount('linear', numTimesteps);
  const scale = 1000 / numTimesteps;
  const start = scale * 0.0001;
  const end = scale * 0.02;
  if (end > 1) {
    throw new Error(`linear beta schedule: ${numTimesteps} steps would need betas up to ${end} (> 1); use at least 20 steps`);
  }
  const betas = new Float64Array(numTimesteps);
  if (numTimesteps === 1) {
    betas[0] = start;
    return betas;
  }
  const step = (end - start) / (numTimesteps - 1);
  for (let i = 0; i < numTimesteps; i++) betas[i] = i * step + start;
  betas[numTimesteps - 1] = end;
  return betas;
}

/** Nichol & Dhariwal (2021)'s cosine schedule: alphaBar(s) = cos²((s + 0.008) / 1.008 · π/2). */
export function cosineBetaSchedule(numTimesteps: number): Float64Array {
  assertTimestepCount('cosine', numTimesteps);
  return betasForAlphaBar(numTimesteps, (s) => Math.cos(((s + 0.008) / 1.008) * (Math.PI / 2)) ** 2);
}

/**
 * Discretizes a continuous alphaBar(s), s in [0, 1] (the cumulative product of 1 - beta), into
 * T betas: beta_i = min(1 - alphaBar((i+1)/T) / alphaBar(i/T), maxBeta). The cap keeps the
 * last steps away from beta = 1, where the reverse process is singular.
 */
export function betasForAlphaBar(numTimesteps: number, alphaBar: (s: number) => number, maxBeta = 0.999): Float64Array {
  assertTimestepCount('betasForAlphaBar', numTimesteps);
  if (!(maxBeta > 0 && maxBeta <= 1)) throw new Error(`betasForAlphaBar: maxBeta must be in (0, 1], got ${maxBeta}`);
  const betas = new Float64Array(numTimesteps);
  for (let i = 0; i < numTimesteps; i++) {
    const t1 = i / numTimesteps;
    const t2 = (i + 1) / numTimesteps;
    betas[i] = Math.min(1 - alphaBar(t2) / alphaBar(t1), maxBeta);
  }
  return betas;
}

/** The named schedules. Append-only: add new names, never change what an existing name returns. */
export const BETA_SCHEDULES: Readonly<Record<string, BetaSchedule>> = Object.freeze({
  linear: linearBetaSchedule,
  cosine: cosineBetaSchedule,
});

export type BetaScheduleName = 'linear' | 'cosine';

/** The betas of a named schedule for `numTimesteps` steps (guided-diffusion's get_named_beta_schedule). */
export function getNamedBetaSchedule(name: BetaScheduleName | (string & {}), numTimesteps: number): Float64Array {
  const schedule = Object.hasOwn(BETA_SCHEDULES, name) ? BETA_SCHEDULES[name] : undefined;
  if (!schedule) {
    throw new Error(`getNamedBetaSchedule: unknown beta schedule "${name}" (known: ${Object.keys(BETA_SCHEDULES).join(', ')})`);
  }
  return schedule(numTimesteps);
}

function assertTimestepCount(where: string, numTimesteps: number): void {
  if (!Number.isInteger(numTimesteps) || numTimesteps < 1) {
    throw new Error(`${where}: the number of diffusion steps must be a positive integer, got ${numTimesteps}`);
  }
}
