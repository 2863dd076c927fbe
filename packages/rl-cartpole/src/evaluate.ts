// Policy evaluation as the paper's vis_test_policy / run_test count it: reset all copies together,
// act until more than `minEpisodes` episodes have finished, and average the returns of every
// finished episode (so the short episodes, which finish first, are all counted).

import { Generator, type Tensor } from '@gpt/tensor';
import { loadFlat } from '@gpt/nn';
import { CARTPOLE } from './cartpole.js';
import { ACTION_SIZE, GaussianMlpPolicy } from './policy.js';
import { act, allocateActOutput, readLogStd } from './rollout.js';
import { CartPoleVectorEnv } from './vector-cartpole.js';

export interface EvaluateOptions {
  /** Copies stepped together; default 512 (the paper's). */
  numEnvs?: number;
  /** Stop once more than this many episodes have finished; default 200. */
  minEpisodes?: number;
  /** Act with the mean instead of sampling; default false (the paper's metric samples). */
  deterministic?: boolean;
  /** Seeds the environments and the action noise; default 0. */
  seed?: number;
  maxEpisodeSteps?: number;
  /** For a flat vector: how its log_std maps to the action std (GaussianMlpPolicyOptions); default 2, the paper's. */
  logStdScale?: number;
}

export interface EvaluateResult {
  meanReturn: number;
  meanLength: number;
  /** Returns of the finished episodes, in the order they finished. */
  returns: number[];
}

/** Evaluates a policy, or a flat 1,250-number vector loaded into a fresh one. */
export function evaluatePolicy(policyOrVector: GaussianMlpPolicy | Float32Array | Tensor, options: EvaluateOptions = {}): EvaluateResult {
  const { numEnvs = 512, minEpisodes = 200, deterministic = false, seed = 0, maxEpisodeSteps = CARTPOLE.maxEpisodeSteps } = options;
  if (!Number.isInteger(minEpisodes) || minEpisodes < 0) throw new Error(`evaluatePolicy: minEpisodes must be a non-negative integer, got ${minEpisodes}`);
  let policy: GaussianMlpPolicy;
  let ownsPolicy = false;
  if (policyOrVector instanceof GaussianMlpPolicy) {
    policy = policyOrVector;
  } else {
    policy = new GaussianMlpPolicy({ seed: 0, logStdScale: options.logStdScale });
    loadFlat(policy, policyOrVector);
    ownsPolicy = true;
  }
  try {
    const generator = new Generator(seed);
    const env = new CartPoleVectorEnv(numEnvs, { actionType: 'continuous', maxEpisodeSteps });
    let observations = env.reset({ seed: generator.int(0, 2 ** 30) }).observations;
    const logStd = readLogStd(policy);
    const out = allocateActOutput(numEnvs);
    const returns: number[] = [];
    const lengths: number[] = [];
    while (returns.length <= minEpisodes) {
      act(policy, null, observations, logStd, deterministic ? null : generator.normal(numEnvs * ACTION_SIZE), out);
      const step = env.step(out.actions);
      observations = step.observations;
      const { episodeDone, episodeReturn, episodeLength } = step.info;
      for (let i = 0; i < numEnvs; i++) {
        if (episodeDone[i]) {
          returns.push(episodeReturn[i]!);
          lengths.push(episodeLength[i]!);
        }
      }
    }
    const average = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return { meanReturn: average(returns), meanLength: average(lengths), returns };
  } finally {
    if (ownsPolicy) for (const p of policy.parameters()) p.dispose();
  }
}
