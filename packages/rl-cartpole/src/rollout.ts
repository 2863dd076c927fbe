// Acting with the policy on a vector environment: one forward pass per step without the tape,
// Gaussian noise drawn on the host, results written into preallocated typed arrays.

import { noGrad, tensor, tidy } from '@gpt/tensor';
import { ACTION_SIZE, HALF_LOG_2PI, OBSERVATION_SIZE, type CartPoleCritic, type GaussianMlpPolicy } from './policy.js';
import type { VectorStepResult } from './vector-cartpole.js';

export interface ActOutput {
  /** Sampled (or mean) actions, before the environment's clamp. [N * A] */
  actions: Float32Array;
  /** log pi(a | s) of the sampled actions. [N] */
  logProbs: Float32Array;
  /** critic(s), when a critic was given. [N] */
  values: Float32Array;
}

/** Reads the log of the action std (logStdScale * log_std) once per rollout (it changes only in updates). */
export function readLogStd(policy: GaussianMlpPolicy): Float32Array {
  return Float32Array.from(policy.log_std.dataSync(), (v) => policy.logStdScale * v);
}

/**
 * Acts on `observations` [N, 4]: means (and values) from one no-grad forward pass, then
 * a = mean + exp(logStd) * noise with `noise` [N * A] standard normals (or the mean when
 * `noise` is null). Writes into `out`, whose arrays are reused step after step.
 */
export function act(
  policy: GaussianMlpPolicy,
  critic: CartPoleCritic | null,
  observations: Float32Array,
  logStd: Float32Array,
  noise: ArrayLike<number> | null,
  out: ActOutput,
): void {
  const numEnvs = observations.length / OBSERVATION_SIZE;
  noGrad(() =>
    tidy(() => {
      const obs = tensor(observations, { shape: [numEnvs, OBSERVATION_SIZE] }); // [N, 4]
      const means = policy.forward(obs).dataSync(); // [N * A]
      if (critic) out.values.set(critic.forward(obs).dataSync()); // [N]
      for (let i = 0; i < numEnvs; i++) {
        let logProb = 0;
        for (let j = 0; j < ACTION_SIZE; j++) {
          const k = i * ACTION_SIZE + j;
          const z = noise ? noise[k]! : 0;
          out.actions[k] = means[k]! + Math.exp(logStd[j]!) * z;
          // (a - mean) / std is the noise itself, so the density needs no second pass.
          logProb += -0.5 * z * z - logStd[j]! - HALF_LOG_2PI;
        }
        out.logProbs[i] = logProb;
      }
    }),
  );
}

export interface TruncationScratch {
  index: Int32Array; // [N]
  observations: Float32Array; // [N, 4]
}

export function allocateTruncationScratch(numEnvs: number): TruncationScratch {
  return { index: new Int32Array(numEnvs), observations: new Float32Array(numEnvs * OBSERVATION_SIZE) };
}

/**
 * The bootstrap values of one vector step: out[i] = critic(info.finalObservations[i]) where copy i
 * was truncated and not terminated (its episode was cut by the time limit, so its last state
 * still has a future), 0 elsewhere. One no-grad critic forward over those copies only.
 */
export function truncationValues(critic: CartPoleCritic, step: Pick<VectorStepResult, 'terminated' | 'truncated' | 'info'>, out: Float32Array, scratch: TruncationScratch): void {
  const { terminated, truncated } = step;
  const final = step.info.finalObservations;
  out.fill(0);
  let count = 0;
  for (let i = 0; i < out.length; i++) {
    if (!truncated[i] || terminated[i]) continue;
    scratch.index[count] = i;
    scratch.observations.set(final.subarray(i * OBSERVATION_SIZE, (i + 1) * OBSERVATION_SIZE), count * OBSERVATION_SIZE);
    count++;
  }
  if (count === 0) return;
  noGrad(() =>
    tidy(() => {
      const values = critic.forward(tensor(scratch.observations.subarray(0, count * OBSERVATION_SIZE), { shape: [count, OBSERVATION_SIZE] })).dataSync(); // [count]
      for (let c = 0; c < count; c++) out[scratch.index[c]!] = values[c]!;
    }),
  );
}

export function allocateActOutput(numEnvs: number): ActOutput {
  return { actions: new Float32Array(numEnvs * ACTION_SIZE), logProbs: new Float32Array(numEnvs), values: new Float32Array(numEnvs) };
}
