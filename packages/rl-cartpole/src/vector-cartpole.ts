// N CartPole-v1 copies stepped together over typed arrays, like gymnasium.vector with
// RecordEpisodeStatistics: each copy resets itself in the step that ends its episode (the
// returned observation is already the new episode's; the last one is in info.finalObservations,
// Gymnasium 0.29's "same-step" autoreset), and info reports the return and length of every
// episode that just ended. The step allocates nothing: every array it returns is reused and
// overwritten by the next call.

import { Generator } from '@gpt/tensor';
import {
  CARTPOLE,
  actionToForce,
  cartPoleActionSpace,
  cartPoleObservationSpace,
  cartPoleResetState,
  cartPoleStep,
  checkActionType,
  checkMaxEpisodeSteps,
  type ActionType,
  type BoxSpace,
  type CartPoleOptions,
  type DiscreteSpace,
} from './cartpole.js';

export interface VectorEpisodeInfo {
  /** 1 where an episode ended in this step (terminated or truncated). [N] */
  episodeDone: Uint8Array;
  /** Return of the episode that just ended, where episodeDone. [N] */
  episodeReturn: Float64Array;
  /** Length of the episode that just ended, where episodeDone. [N] */
  episodeLength: Int32Array;
  /** The ended episode's last observation, where episodeDone (observations holds the reset one). [N, 4] */
  finalObservations: Float32Array;
}

export interface VectorStepResult {
  /** [N, 4] row-major */
  observations: Float32Array;
  /** [N] */
  rewards: Float32Array;
  /** [N], 0 or 1 */
  terminated: Uint8Array;
  /** [N], 0 or 1 */
  truncated: Uint8Array;
  info: VectorEpisodeInfo;
}

export class CartPoleVectorEnv {
  readonly actionType: ActionType;
  readonly maxEpisodeSteps: number;
  readonly singleObservationSpace: BoxSpace = cartPoleObservationSpace();
  readonly singleActionSpace: BoxSpace | DiscreteSpace;
  /** (x, xDot, theta, thetaDot) per copy, float64. [N, 4] */
  readonly states: Float64Array;
  private readonly generators: Generator[];
  private readonly elapsedSteps: Int32Array;
  private readonly runningReturns: Float64Array;
  private readonly forces: Float64Array;
  private readonly result: VectorStepResult;
  private started = false;

  constructor(
    readonly numEnvs: number,
    options: CartPoleOptions = {},
  ) {
    if (!Number.isInteger(numEnvs) || numEnvs <= 0) throw new Error(`CartPoleVectorEnv: numEnvs must be a positive integer, got ${numEnvs}`);
    this.actionType = checkActionType('CartPoleVectorEnv', options.actionType ?? 'discrete');
    this.maxEpisodeSteps = checkMaxEpisodeSteps('CartPoleVectorEnv', options.maxEpisodeSteps ?? CARTPOLE.maxEpisodeSteps);
    this.singleActionSpace = cartPoleActionSpace(this.actionType);
    this.states = new Float64Array(numEnvs * 4);
    this.generators = Array.from({ length: numEnvs }, (_, i) => new Generator(i));
    this.elapsedSteps = new Int32Array(numEnvs);
    this.runningReturns = new Float64Array(numEnvs);
    this.forces = new Float64Array(numEnvs);
    this.result = {
      observations: new Float32Array(numEnvs * 4),
      rewards: new Float32Array(numEnvs),
      terminated: new Uint8Array(numEnvs),
      truncated: new Uint8Array(numEnvs),
      info: {
        episodeDone: new Uint8Array(numEnvs),
        episodeReturn: new Float64Array(numEnvs),
        episodeLength: new Int32Array(numEnvs),
        finalObservations: new Float32Array(numEnvs * 4),
      },
    };
  }

  /**
   * Resets every copy. With a seed, copy i restarts from seed + i (gymnasium.vector's rule), so it
   * follows the same states as a single CartPoleEnv reset with that seed; without one each copy's
   * stream continues (seeds 0..N-1 if never seeded).
   */
  reset(options: { seed?: number } = {}): { observations: Float32Array; infos: Record<string, never> } {
    const { seed } = options;
    if (seed !== undefined && !Number.isSafeInteger(seed)) throw new Error(`CartPoleVectorEnv.reset: seed must be an integer, got ${seed}`);
    for (let i = 0; i < this.numEnvs; i++) {
      if (seed !== undefined) this.generators[i] = new Generator(seed + i);
      cartPoleResetState(this.generators[i]!, this.states, i * 4);
    }
    this.elapsedSteps.fill(0);
    this.runningReturns.fill(0);
    this.started = true;
    const { observations } = this.result;
    for (let k = 0; k < observations.length; k++) observations[k] = this.states[k]!;
    return { observations, infos: {} };
  }

  /**
   * Steps every copy with its action: N numbers (discrete 0/1 or continuous), in any typed or plain
   * array. Every action is checked before any state changes, so a bad one leaves the environments as they were.
   */
  step(actions: ArrayLike<number>): VectorStepResult {
    if (!this.started) throw new Error('CartPoleVectorEnv.step: call reset() first');
    if (actions === null || typeof actions !== 'object' || typeof actions.length !== 'number') {
      throw new Error(`CartPoleVectorEnv.step: actions must be an array of ${this.numEnvs} numbers, got ${String(actions)}`);
    }
    if (actions.length !== this.numEnvs) {
      throw new Error(`CartPoleVectorEnv.step: expected ${this.numEnvs} actions (shape [${this.numEnvs}${this.actionType === 'continuous' ? ', 1' : ''}]), got ${actions.length}`);
    }
    const { forces, states, elapsedSteps, runningReturns } = this;
    for (let i = 0; i < this.numEnvs; i++) forces[i] = actionToForce(`CartPoleVectorEnv.step (env ${i})`, this.actionType, actions[i]!);
    const { observations, rewards, terminated, truncated, info } = this.result;
    const { episodeDone, episodeReturn, episodeLength, finalObservations } = info;
    for (let i = 0; i < this.numEnvs; i++) {
      const offset = i * 4;
      const isTerminal = cartPoleStep(states, offset, forces[i]!);
      const steps = ++elapsedSteps[i]!;
      const isTruncated = steps >= this.maxEpisodeSteps;
      rewards[i] = 1;
      runningReturns[i]! += 1;
      terminated[i] = isTerminal ? 1 : 0;
      truncated[i] = isTruncated ? 1 : 0;
      if (isTerminal || isTruncated) {
        episodeDone[i] = 1;
        episodeReturn[i] = runningReturns[i]!;
        episodeLength[i] = steps;
        for (let k = 0; k < 4; k++) finalObservations[offset + k] = states[offset + k]!;
        cartPoleResetState(this.generators[i]!, states, offset);
        elapsedSteps[i] = 0;
        runningReturns[i] = 0;
      } else {
        episodeDone[i] = 0;
        episodeReturn[i] = 0;
        episodeLength[i] = 0;
      }
      for (let k = 0; k < 4; k++) observations[offset + k] = states[offset + k]!;
    }
    return this.result;
  }
}
