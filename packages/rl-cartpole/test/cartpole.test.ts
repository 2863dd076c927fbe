// CartPole-v1 dynamics against an independent float64 transcription of the published equations
// (Barto, Sutton & Anderson 1983 as corrected by Florian 2007, in Gymnasium's form), plus
// termination, truncation, seeding, vector == single, and bad input.

import { Generator } from '@gpt/tensor';
import { describe, expect, it } from 'vitest';
import { CARTPOLE, CartPoleEnv, CartPoleVectorEnv } from '../src/index.js';

// ---- the reference: written from the equations, sharing no code with src/ -------------------
const G = 9.8;
const MC = 1.0;
const MP = 0.1;
const L = 0.5; // half the pole length
const TAU = 0.02;

function referenceStep(s: readonly number[], force: number): number[] {
  const [x, v, th, w] = s as [number, number, number, number];
  const m = MC + MP;
  // theta'' = (g sin - cos (F + mp l w^2 sin) / m) / (l (4/3 - mp cos^2 / m))
  const inner = (force + MP * L * w * w * Math.sin(th)) / m;
  const thAcc = (G * Math.sin(th) - Math.cos(th) * inner) / (L * (4 / 3 - (MP * Math.cos(th) ** 2) / m));
  // x'' = (F + mp l (w^2 sin - theta'' cos)) / m
  const xAcc = (force + MP * L * (w * w * Math.sin(th) - thAcc * Math.cos(th))) / m;
  return [x + TAU * v, v + TAU * xAcc, th + TAU * w, w + TAU * thAcc];
}

const isTerminal = (s: readonly number[]) => Math.abs(s[0]!) > 2.4 || Math.abs(s[2]!) > (12 * Math.PI) / 180;
const resetState = (seed: number) => [...new Generator(seed).uniform(4)].map((u) => -0.05 + 0.1 * u);

function expectClose(actual: ArrayLike<number>, expected: readonly number[], tolerance: number) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThanOrEqual(tolerance * (1 + Math.abs(expected[i]!)));
}

describe('CartPoleEnv dynamics', () => {
  it('has the CartPole-v1 constants and spaces', () => {
    expect(CARTPOLE).toMatchObject({ gravity: 9.8, massCart: 1, massPole: 0.1, length: 0.5, forceMag: 10, tau: 0.02, xThreshold: 2.4, maxEpisodeSteps: 500 });
    expect(CARTPOLE.thetaThresholdRadians).toBeCloseTo((12 * Math.PI) / 180, 15);
    const env = new CartPoleEnv();
    expect(env.actionSpace).toEqual({ kind: 'discrete', n: 2, dtype: 'int64' });
    expect([...env.observationSpace.high.slice(0, 3)]).toEqual([Math.fround(4.8), 3.4028234663852886e38, Math.fround((24 * Math.PI) / 180)]);
    expect(new CartPoleEnv({ actionType: 'continuous' }).actionSpace).toMatchObject({ kind: 'box', shape: [1] });
  });

  it('reset draws U(-0.05, 0.05)^4 from the seed, as float32 observations of a float64 state', () => {
    const env = new CartPoleEnv();
    const { observation } = env.reset({ seed: 7 });
    expect(observation).toBeInstanceOf(Float32Array);
    expect([...env.state]).toEqual(resetState(7));
    expect([...observation]).toEqual(resetState(7).map(Math.fround));
    for (const v of env.state) expect(Math.abs(v)).toBeLessThan(0.05);
  });

  it('a fixed discrete action sequence follows the reference equations until termination', () => {
    const env = new CartPoleEnv();
    env.reset({ seed: 3 });
    let s = resetState(3);
    // Alternating pushes with a right bias: the pole falls after a few dozen steps.
    for (let t = 0; ; t++) {
      const action = t % 3 === 0 ? 0 : 1;
      s = referenceStep(s, action === 1 ? 10 : -10);
      const out = env.step(action);
      expectClose(env.state, s, 1e-12);
      expectClose(out.observation, s.map(Math.fround), 0);
      expect(out.reward).toBe(1);
      expect(out.truncated).toBe(false);
      expect(out.terminated).toBe(isTerminal(s));
      if (out.terminated) {
        expect(t).toBeGreaterThan(5);
        break;
      }
      expect(t).toBeLessThan(499);
    }
    expect(() => env.step(0)).toThrow(/call reset\(\) first/);
  });

  it('continuous actions apply clamp(a, -1, 1) * 10 N', () => {
    const env = new CartPoleEnv({ actionType: 'continuous' });
    env.reset({ seed: 11 });
    let s = resetState(11);
    const actions = [0.3, -2.5, 0, 1.7, -0.25, [0.5], Float32Array.of(-0.9)];
    for (const a of actions) {
      const value = typeof a === 'number' ? a : a[0]!;
      s = referenceStep(s, Math.min(1, Math.max(-1, value)) * 10);
      env.step(a);
      expectClose(env.state, s, 1e-12);
    }
  });

  it('a controlled 600-step episode is truncated at exactly 500 steps, matching the reference all the way', () => {
    const env = new CartPoleEnv({ actionType: 'continuous' });
    env.reset({ seed: 5 });
    let s = resetState(5);
    // A PD controller on the pole and cart keeps it up indefinitely.
    const controller = (st: readonly number[]) => 2 * st[2]! + 0.5 * st[3]! + 0.05 * st[0]! + 0.1 * st[1]!;
    let steps = 0;
    let truncatedAt = -1;
    for (let t = 0; t < 600 && truncatedAt < 0; t++) {
      const a = controller(s);
      s = referenceStep(s, Math.min(1, Math.max(-1, a)) * 10);
      const out = env.step(a);
      steps++;
      expectClose(env.state, s, 1e-10);
      expect(out.terminated).toBe(false);
      if (out.truncated) truncatedAt = steps;
    }
    expect(truncatedAt).toBe(500);
    expect(() => env.step(0)).toThrow(/reset/);
    const short = new CartPoleEnv({ actionType: 'continuous', maxEpisodeSteps: 20 });
    short.reset({ seed: 5 });
    for (let t = 1; t <= 20; t++) expect(short.step(controller([...short.state])).truncated).toBe(t === 20);
  });

  it('terminates on |x| > 2.4 and |theta| > 12 degrees, not at the bounds', () => {
    const env = new CartPoleEnv({ actionType: 'continuous' });
    const cases: [number[], boolean][] = [
      // x moves by tau * xDot = 0.02 * 1 = 0.02 exactly past or onto the bound.
      [[2.39, 1, 0, 0], true],
      [[-2.39, -1, 0, 0], true],
      [[2.38, 0.5, 0, 0], false],
      [[0, 0, 0.209, 0.1], true],
      [[0, 0, -0.209, -0.1], true],
      [[0, 0, 0.2, 0], false],
    ];
    for (const [state, terminal] of cases) {
      env.reset({ seed: 0 });
      env.state.set(state);
      expect(env.step(0).terminated).toBe(terminal);
      expect(isTerminal(referenceStep(state, 0))).toBe(terminal);
    }
  });

  it('is deterministic under a seed, and an unseeded reset continues the stream', () => {
    const run = (seed: number) => {
      const env = new CartPoleEnv({ actionType: 'continuous' });
      const obs = [...env.reset({ seed }).observation];
      for (let t = 0; t < 8; t++) obs.push(...env.step(Math.sin(t)).observation);
      obs.push(...env.reset().observation);
      return obs;
    };
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
  });

  it('refuses bad actions with a clear error', () => {
    const discrete = new CartPoleEnv();
    discrete.reset({ seed: 0 });
    expect(() => discrete.step(2)).toThrow('CartPoleEnv.step: a discrete action must be 0 or 1, got 2');
    expect(() => discrete.step(0.5)).toThrow(/must be 0 or 1/);
    const continuous = new CartPoleEnv({ actionType: 'continuous' });
    continuous.reset({ seed: 0 });
    const before = [...continuous.state];
    expect(() => continuous.step(NaN)).toThrow('CartPoleEnv.step: a continuous action must be a finite number, got NaN');
    expect(() => continuous.step([0.1, 0.2])).toThrow('CartPoleEnv.step: action must have shape [1], got 2 values');
    expect([...continuous.state]).toEqual(before);
    expect(() => new CartPoleEnv({ actionType: 'box' as never })).toThrow(/actionType must be "discrete" or "continuous"/);
    expect(() => new CartPoleEnv({ maxEpisodeSteps: 0 })).toThrow(/maxEpisodeSteps must be a positive integer/);
  });
});

describe('CartPoleVectorEnv', () => {
  it('copy i equals a single env seeded with seed + i, through auto-resets, with episode stats in info', () => {
    const n = 6;
    const maxEpisodeSteps = 40;
    const vector = new CartPoleVectorEnv(n, { actionType: 'continuous', maxEpisodeSteps });
    const singles = Array.from({ length: n }, () => new CartPoleEnv({ actionType: 'continuous', maxEpisodeSteps }));
    const first = vector.reset({ seed: 100 });
    singles.forEach((env, i) => expect([...first.observations.subarray(i * 4, i * 4 + 4)]).toEqual([...env.reset({ seed: 100 + i }).observation]));
    const returns = new Array<number>(n).fill(0);
    const actionRng = new Generator(9);
    let finished = 0;
    let truncations = 0;
    for (let t = 0; t < 300; t++) {
      // Random pushes end episodes by termination; an occasional controlled stretch reaches truncation.
      const noise = actionRng.normal(n);
      const actions = Float32Array.from(singles, (env, i) => (t % 100 < 60 ? 2 * env.state[2]! + 0.5 * env.state[3]! : noise[i]!));
      const out = vector.step(actions);
      singles.forEach((env, i) => {
        const single = env.step(actions[i]!);
        returns[i]! += single.reward;
        expect(out.terminated[i]).toBe(single.terminated ? 1 : 0);
        expect(out.truncated[i]).toBe(single.truncated ? 1 : 0);
        expect(out.rewards[i]).toBe(1);
        const done = single.terminated || single.truncated;
        expect(out.info.episodeDone[i]).toBe(done ? 1 : 0);
        if (done) {
          finished++;
          if (single.truncated) truncations++;
          expect([...out.info.finalObservations.subarray(i * 4, i * 4 + 4)]).toEqual([...single.observation]);
          expect(out.info.episodeReturn[i]).toBe(returns[i]);
          expect(out.info.episodeLength[i]).toBe(returns[i]);
          returns[i] = 0;
          expect([...out.observations.subarray(i * 4, i * 4 + 4)]).toEqual([...env.reset().observation]);
        } else {
          expect([...out.observations.subarray(i * 4, i * 4 + 4)]).toEqual([...single.observation]);
        }
      });
    }
    expect(finished).toBeGreaterThan(10);
    expect(truncations).toBeGreaterThan(0);
  });

  it('reuses its output arrays (no per-step allocation) and is deterministic under a seed', () => {
    const run = () => {
      const env = new CartPoleVectorEnv(64);
      env.reset({ seed: 1 });
      const actions = new Int32Array(64);
      const first = env.step(actions);
      const trace: number[] = [];
      for (let t = 0; t < 50; t++) {
        for (let i = 0; i < 64; i++) actions[i] = (t + i) % 2;
        const out = env.step(actions);
        expect(out.observations).toBe(first.observations);
        expect(out.info).toBe(first.info);
        trace.push(...out.observations.subarray(0, 8), out.info.episodeDone.reduce((a, b) => a + b, 0));
      }
      return trace;
    };
    expect(run()).toEqual(run());
  });

  it('refuses bad actions with a clear error before changing any state', () => {
    const env = new CartPoleVectorEnv(3, { actionType: 'continuous' });
    expect(() => env.step([0, 0, 0])).toThrow(/call reset\(\) first/);
    env.reset({ seed: 0 });
    const before = [...env.states];
    expect(() => env.step([0, 0])).toThrow('CartPoleVectorEnv.step: expected 3 actions (shape [3, 1]), got 2');
    expect(() => env.step([0, NaN, 0])).toThrow('CartPoleVectorEnv.step (env 1): a continuous action must be a finite number, got NaN');
    expect([...env.states]).toEqual(before);
    const discrete = new CartPoleVectorEnv(2);
    discrete.reset({ seed: 0 });
    expect(() => discrete.step([1, -1])).toThrow('CartPoleVectorEnv.step (env 1): a discrete action must be 0 or 1, got -1');
    expect(() => new CartPoleVectorEnv(0)).toThrow(/numEnvs must be a positive integer/);
  });
});
