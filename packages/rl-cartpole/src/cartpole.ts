// CartPole-v1 as Gymnasium defines it (classic_control/cartpole.py plus the TimeLimit wrapper of
// its registration): the constants, one Euler step of the published equations, the termination
// rule, and a single environment with Gymnasium's reset/step interface. The vector environment
// (vector-cartpole.ts) runs the same step function over typed arrays.

import { Generator } from '@gpt/tensor';

/** Gymnasium's CartPole-v1 constants (SI units). */
export const CARTPOLE = {
  gravity: 9.8,
  massCart: 1.0,
  massPole: 0.1,
  /** Half the pole's length. */
  length: 0.5,
  forceMag: 10.0,
  /** Seconds between state updates. */
  tau: 0.02,
  /** |x| beyond this terminates. */
  xThreshold: 2.4,
  /** |theta| beyond 12 degrees terminates. */
  thetaThresholdRadians: (12 * 2 * Math.PI) / 360,
  /** CartPole-v1's TimeLimit. */
  maxEpisodeSteps: 500,
  /** Reset draws every state variable from U(-resetBound, resetBound). */
  resetBound: 0.05,
} as const;

/**
 * 'discrete': Gymnasium's Discrete(2), 0 pushes left and 1 right with forceMag (the CartPole-v1 task).
 * 'continuous': Box(-1, 1, [1]); force = clamp(a, -1, 1) * forceMag (what G.pt's Gaussian policy drives).
 */
export type ActionType = 'discrete' | 'continuous';

export interface BoxSpace {
  kind: 'box';
  shape: readonly number[];
  dtype: 'float32';
  low: Float32Array;
  high: Float32Array;
}

export interface DiscreteSpace {
  kind: 'discrete';
  n: number;
  dtype: 'int64';
}

const FLOAT32_MAX = 3.4028234663852886e38;

/** Gymnasium's observation space: twice the termination bounds for x and theta, float32 max for the velocities. */
export function cartPoleObservationSpace(): BoxSpace {
  const high = Float32Array.of(CARTPOLE.xThreshold * 2, FLOAT32_MAX, CARTPOLE.thetaThresholdRadians * 2, FLOAT32_MAX);
  return { kind: 'box', shape: [4], dtype: 'float32', low: high.map((v) => -v), high };
}

export function cartPoleActionSpace(actionType: ActionType): BoxSpace | DiscreteSpace {
  if (actionType === 'discrete') return { kind: 'discrete', n: 2, dtype: 'int64' };
  return { kind: 'box', shape: [1], dtype: 'float32', low: Float32Array.of(-1), high: Float32Array.of(1) };
}

export function checkActionType(where: string, actionType: unknown): ActionType {
  if (actionType !== 'discrete' && actionType !== 'continuous') {
    throw new Error(`${where}: actionType must be "discrete" or "continuous", got ${JSON.stringify(actionType)}`);
  }
  return actionType;
}

/**
 * The force one action applies, validating it: discrete actions must be 0 or 1, continuous ones a
 * finite number (NaN would silently poison the state, so it is refused rather than clamped).
 */
export function actionToForce(where: string, actionType: ActionType, action: number): number {
  if (actionType === 'discrete') {
    if (action === 1) return CARTPOLE.forceMag;
    if (action === 0) return -CARTPOLE.forceMag;
    throw new Error(`${where}: a discrete action must be 0 or 1, got ${action}`);
  }
  if (!Number.isFinite(action)) throw new Error(`${where}: a continuous action must be a finite number, got ${action}`);
  return Math.min(1, Math.max(-1, action)) * CARTPOLE.forceMag;
}

/**
 * One Euler step of the cart-pole equations (Florian 2007 with Barto et al.'s sign convention),
 * in place on state[offset .. offset + 4] = (x, xDot, theta, thetaDot), in float64 as Gymnasium does.
 * Returns whether the new state is terminal.
 */
export function cartPoleStep(state: Float64Array, offset: number, force: number): boolean {
  const { gravity, massCart, massPole, length, tau } = CARTPOLE;
  const totalMass = massPole + massCart;
  const poleMassLength = massPole * length;
  const x = state[offset]!;
  const xDot = state[offset + 1]!;
  const theta = state[offset + 2]!;
  const thetaDot = state[offset + 3]!;
  const cosTheta = Math.cos(theta);
  const sinTheta = Math.sin(theta);
  const temp = (force + poleMassLength * thetaDot * thetaDot * sinTheta) / totalMass;
  const thetaAcc = (gravity * sinTheta - cosTheta * temp) / (length * (4.0 / 3.0 - (massPole * cosTheta * cosTheta) / totalMass));
  const xAcc = temp - (poleMassLength * thetaAcc * cosTheta) / totalMass;
  // Gymnasium's default 'euler' integrator updates positions from the old velocities.
  const newX = x + tau * xDot;
  const newTheta = theta + tau * thetaDot;
  state[offset] = newX;
  state[offset + 1] = xDot + tau * xAcc;
  state[offset + 2] = newTheta;
  state[offset + 3] = thetaDot + tau * thetaAcc;
  return (
    newX < -CARTPOLE.xThreshold ||
    newX > CARTPOLE.xThreshold ||
    newTheta < -CARTPOLE.thetaThresholdRadians ||
    newTheta > CARTPOLE.thetaThresholdRadians
  );
}

/** Draws a reset state U(-0.05, 0.05)^4 from the generator's host uniforms into state[offset .. offset + 4]. */
export function cartPoleResetState(generator: Generator, state: Float64Array, offset: number): void {
  const u = generator.uniform(4);
  for (let i = 0; i < 4; i++) state[offset + i] = -CARTPOLE.resetBound + 2 * CARTPOLE.resetBound * u[i]!;
}

export interface CartPoleOptions {
  /** Default 'discrete' (CartPole-v1). */
  actionType?: ActionType;
  /** Truncation limit; default 500 (CartPole-v1). */
  maxEpisodeSteps?: number;
}

export interface ResetResult {
  observation: Float32Array;
  info: Record<string, never>;
}

export interface StepResult {
  observation: Float32Array;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: Record<string, never>;
}

export function checkMaxEpisodeSteps(where: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${where}: maxEpisodeSteps must be a positive integer, got ${value}`);
  return value;
}

/** One CartPole with Gymnasium's interface: reset({ seed }) then step(action) until terminated or truncated. */
export class CartPoleEnv {
  readonly actionType: ActionType;
  readonly maxEpisodeSteps: number;
  readonly observationSpace: BoxSpace = cartPoleObservationSpace();
  readonly actionSpace: BoxSpace | DiscreteSpace;
  /** (x, xDot, theta, thetaDot) in float64; observations are its float32 copy. */
  readonly state = new Float64Array(4);
  private generator = new Generator(0);
  private elapsedSteps = 0;
  private needsReset = true;

  constructor(options: CartPoleOptions = {}) {
    this.actionType = checkActionType('CartPoleEnv', options.actionType ?? 'discrete');
    this.maxEpisodeSteps = checkMaxEpisodeSteps('CartPoleEnv', options.maxEpisodeSteps ?? CARTPOLE.maxEpisodeSteps);
    this.actionSpace = cartPoleActionSpace(this.actionType);
  }

  /** A seed restarts the generator (Gymnasium's np_random); without one the stream continues. */
  reset(options: { seed?: number } = {}): ResetResult {
    if (options.seed !== undefined) this.generator = new Generator(options.seed);
    cartPoleResetState(this.generator, this.state, 0);
    this.elapsedSteps = 0;
    this.needsReset = false;
    return { observation: Float32Array.from(this.state), info: {} };
  }

  /** Discrete: 0 or 1. Continuous: a number or a length-1 array. */
  step(action: number | ArrayLike<number>): StepResult {
    if (this.needsReset) throw new Error('CartPoleEnv.step: call reset() first (before the first step and after an episode ends)');
    const force = actionToForce('CartPoleEnv.step', this.actionType, this.scalarAction(action));
    const terminated = cartPoleStep(this.state, 0, force);
    this.elapsedSteps++;
    const truncated = this.elapsedSteps >= this.maxEpisodeSteps;
    this.needsReset = terminated || truncated;
    // Gymnasium pays 1 for every step, the terminating one included.
    return { observation: Float32Array.from(this.state), reward: 1, terminated, truncated, info: {} };
  }

  private scalarAction(action: number | ArrayLike<number>): number {
    if (typeof action === 'number') return action;
    if (action === null || typeof action !== 'object' || typeof action.length !== 'number') {
      throw new Error(`CartPoleEnv.step: action must be a number or an array of 1 number, got ${String(action)}`);
    }
    if (action.length !== 1) throw new Error(`CartPoleEnv.step: action must have shape [1], got ${action.length} values`);
    return action[0]!;
  }
}
