// PPO: GAE, advantage normalization and the clipped surrogate / value losses on small fixed
// batches against values worked out by hand; a short training run that must raise the return;
// the checkpoint callback; evaluation; no tensors left behind.

import { flattenParameters } from '@gpt/nn';
import { memory, tensor } from '@gpt/tensor';
import { describe, expect, it } from 'vitest';
import { computeGae, evaluatePolicy, GaussianMlpPolicy, normalizeAdvantages, ppoLosses, trainPpo, type PolicyCheckpoint } from '../src/index.js';

describe('GAE', () => {
  it('matches a hand computation over 3 steps x 2 envs with an episode end', () => {
    // Time-major [T=3, N=2]; env 1's episode ends at t = 1 (its t = 2 value belongs to a new episode).
    const rewards = [1, 1, 1, 1, 1, 1];
    const values = [0.5, 1, 2, 0.2, 1, 3];
    const dones = [0, 0, 0, 1, 0, 0];
    const lastValues = [4, 2];
    const gamma = 0.9;
    const lambda = 0.5;
    const { advantages, returns } = computeGae({ rewards, values, dones, lastValues }, 3, 2, gamma, lambda);
    // env 0: deltas d2 = 1 + 0.9*4 - 1 = 3.6, d1 = 1 + 0.9*1 - 2 = -0.1, d0 = 1 + 0.9*2 - 0.5 = 2.3
    //        A2 = 3.6, A1 = -0.1 + 0.45*3.6 = 1.52, A0 = 2.3 + 0.45*1.52 = 2.984
    // env 1: d2 = 1 + 0.9*2 - 3 = -0.2; d1 = 1 + 0 - 0.2 = 0.8 (done: no bootstrap, no carry); d0 = 1 + 0.9*0.2 - 1 = 0.18
    //        A2 = -0.2, A1 = 0.8, A0 = 0.18 + 0.45*0.8 = 0.54
    const expected = [2.984, 0.54, 1.52, 0.8, 3.6, -0.2];
    expected.forEach((a, k) => {
      expect(advantages[k]!).toBeCloseTo(a, 5);
      expect(returns[k]!).toBeCloseTo(a + values[k]!, 5);
    });
    expect(() => computeGae({ rewards, values, dones, lastValues: [1] }, 3, 2, gamma, lambda)).toThrow('computeGae: lastValues has 1 values, expected 2');
  });

  it('normalizes advantages with the unbiased std', () => {
    const a = normalizeAdvantages(Float32Array.of(1, 2, 3, 6));
    // mean 3, unbiased variance (4 + 1 + 0 + 9) / 3 = 14 / 3
    const std = Math.sqrt(14 / 3);
    [-2 / std, -1 / std, 0, 3 / std].forEach((v, i) => expect(a[i]!).toBeCloseTo(v, 6));
  });
});

describe('PPO losses', () => {
  it('clipped surrogate and value loss (values and gradients) on a fixed batch', () => {
    const ratios = [1, 1.5, 0.5, 1.1];
    const oldLogProb = tensor([-1, -0.5, -2, 0.3]);
    const logProb = tensor(ratios.map((r, i) => Math.log(r) + [-1, -0.5, -2, 0.3][i]!));
    logProb.requiresGrad = true;
    const values = tensor([1, 2, 3, 4]);
    values.requiresGrad = true;
    const { surrogate, valueLoss } = ppoLosses(
      { logProb, oldLogProb, advantages: tensor([1, 2, -1, -3]), values, returns: tensor([1.5, 2, 2, 6]) },
      0.2,
    );
    // per sample max(-A r, -A clamp(r, 0.8, 1.2)): -1, max(-3, -2.4) = -2.4, max(0.5, 0.8) = 0.8, 3.3 -> mean 0.175
    expect(surrogate.item()).toBeCloseTo(0.175, 5);
    // (0.5^2 + 0 + 1 + 2^2) / 4
    expect(valueLoss.item()).toBeCloseTo(1.3125, 6);
    surrogate.backward();
    valueLoss.backward();
    // Only unclipped samples pass a gradient: d/dlogp (-A r) / 4 = -A r / 4.
    const g = logProb.grad!.dataSync();
    [-0.25, 0, 0, 0.825].forEach((v, i) => expect(g[i]!).toBeCloseTo(v, 5));
    // d/dV mean((R - V)^2) = -2 (R - V) / 4
    [-0.25, 0, 0.5, -1].forEach((v, i) => expect(values.grad!.dataSync()[i]!).toBeCloseTo(v, 6));
  });
});

describe('trainPpo', () => {
  const small = { numEnvs: 64, numSteps: 32, epochs: 4, minibatches: 2, learningRate: 3e-3, lrSchedule: 'constant' as const };

  it('a short run raises the return, reports checkpoints, and leaves no tensors behind', async () => {
    const before = memory().tensors;
    const checkpoints: PolicyCheckpoint[] = [];
    const result = await trainPpo({ ...small, iterations: 12, seed: 1, checkpointIterations: [0, 4, 12], onCheckpoint: (c) => void checkpoints.push(c) });
    const initial = new GaussianMlpPolicy({ seed: 0 });
    expect(checkpoints.map((c) => c.iteration)).toEqual([0, 4, 12]);
    for (const c of checkpoints) expect(c.flatPolicy.length).toBe(1250);
    const final = flattenParameters(result.policy);
    expect([...checkpoints[2]!.flatPolicy]).toEqual([...final.dataSync()]);
    final.dispose();
    expect(checkpoints[2]!.meanReturn).toBe(result.history.at(-1)!.meanReturn);
    // A random policy balances ~20 steps; the update must lift it clearly (a sign error in the surrogate sinks it).
    const first = result.history[0]!.meanReturn;
    const last = result.history.at(-1)!.meanReturn;
    expect(first).toBeLessThan(40);
    expect(last).toBeGreaterThan(first * 2);
    const evaluation = evaluatePolicy(result.policy, { numEnvs: 64, minEpisodes: 64, seed: 5 });
    const baseline = evaluatePolicy(Float32Array.from(checkpoints[0]!.flatPolicy), { numEnvs: 64, minEpisodes: 64, seed: 5 });
    expect(evaluation.meanReturn).toBeGreaterThan(baseline.meanReturn * 2);
    for (const p of [...result.policy.parameters(), ...result.critic.parameters(), ...initial.parameters()]) p.dispose();
    expect(memory().tensors).toBe(before);
  });

  it('is deterministic under a seed', async () => {
    const run = async () => {
      const r = await trainPpo({ ...small, numEnvs: 16, numSteps: 8, iterations: 2, seed: 4 });
      const flat = flattenParameters(r.policy);
      return [...flat.dataSync(), ...r.history.map((s) => s.valueLoss)];
    };
    expect(await run()).toEqual(await run());
  });

  it('stops on abort or a throwing callback, leaving no tensors behind', async () => {
    const before = memory().tensors;
    const controller = new AbortController();
    const tiny = { ...small, numEnvs: 16, numSteps: 8, iterations: 5 };
    const aborted = trainPpo({ ...tiny, signal: controller.signal, onIteration: (s) => void (s.iteration === 2 && controller.abort(new Error('stop here'))) });
    await expect(aborted).rejects.toThrow('stop here');
    const failing = trainPpo({ ...tiny, checkpointIterations: [1], onCheckpoint: () => Promise.reject(new Error('disk full')) });
    await expect(failing).rejects.toThrow('disk full');
    expect(memory().tensors).toBe(before);
  });

  it('refuses bad options', async () => {
    await expect(trainPpo({ numEnvs: 0 })).rejects.toThrow('trainPpo: numEnvs must be a positive integer, got 0');
    await expect(trainPpo({ numEnvs: 3, numSteps: 3, minibatches: 2 })).rejects.toThrow(/must split into 2 equal minibatches/);
    await expect(trainPpo({ iterations: 5, checkpointIterations: [6] })).rejects.toThrow('trainPpo: checkpoint iteration 6 is outside 0..5');
  });
});

describe('evaluatePolicy', () => {
  it('counts more than minEpisodes finished episodes, is seeded, and takes a flat vector', () => {
    const policy = new GaussianMlpPolicy({ seed: 2 });
    const a = evaluatePolicy(policy, { numEnvs: 32, minEpisodes: 50, seed: 1 });
    expect(a.returns.length).toBeGreaterThan(50);
    expect(a.meanReturn).toBeCloseTo(a.returns.reduce((s, r) => s + r, 0) / a.returns.length, 10);
    const flat = flattenParameters(policy);
    expect(evaluatePolicy(Float32Array.from(flat.dataSync()), { numEnvs: 32, minEpisodes: 50, seed: 1 })).toEqual(a);
    expect(evaluatePolicy(policy, { numEnvs: 32, minEpisodes: 50, seed: 2 }).returns).not.toEqual(a.returns);
    const greedy = evaluatePolicy(policy, { numEnvs: 32, minEpisodes: 50, seed: 1, deterministic: true });
    expect(greedy.returns.length).toBeGreaterThan(50);
  });
});
