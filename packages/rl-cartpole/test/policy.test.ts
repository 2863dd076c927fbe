// The paper's Cartpole policy: state-dict names and flat order (1,250 numbers), the orthogonal
// init gains, the critic kept apart, and the Gaussian log-density.

import { flattenParameters, loadFlat, parameterSizes } from '@gpt/nn';
import { tensor, tidy, type Tensor } from '@gpt/tensor';
import { describe, expect, it } from 'vitest';
import { CartPoleCritic, GaussianMlpPolicy } from '../src/index.js';

/** Gram matrix of the rows (rows <= cols) or of the columns: gain^2 I for an orthogonal init. */
function gram(weight: Tensor): { matrix: number[][]; size: number } {
  const [rows, cols] = weight.shape as [number, number];
  const w = weight.dataSync();
  const byRows = rows <= cols;
  const size = byRows ? rows : cols;
  const at = (i: number, j: number) => w[i * cols + j]!;
  const matrix = Array.from({ length: size }, (_, a) =>
    Array.from({ length: size }, (_, b) => {
      let s = 0;
      for (let k = 0; k < (byRows ? cols : rows); k++) s += byRows ? at(a, k) * at(b, k) : at(k, a) * at(k, b);
      return s;
    }),
  );
  return { matrix, size };
}

function expectScaledIdentity(weight: Tensor, gain: number) {
  const { matrix, size } = gram(weight);
  for (let a = 0; a < size; a++) for (let b = 0; b < size; b++) expect(matrix[a]![b]!).toBeCloseTo(a === b ? gain * gain : 0, 5);
}

describe('GaussianMlpPolicy', () => {
  it('has the paper state dict: names, shapes and flat order, 1,250 parameters; the critic is not part of it', () => {
    const policy = new GaussianMlpPolicy({ seed: 0 });
    const dict = policy.stateDict();
    expect(Object.keys(dict)).toEqual(['log_std', 'actor.0.weight', 'actor.0.bias', 'actor.2.weight', 'actor.2.bias', 'actor.4.weight', 'actor.4.bias']);
    expect(Object.values(dict).map((t) => t.shape)).toEqual([[1], [32, 4], [32], [32, 32], [32], [1, 32], [1]]);
    expect(parameterSizes(policy)).toEqual([1, 128, 32, 1024, 32, 32, 1]);
    expect(policy.parameterCount).toBe(1250);
    const flat = flattenParameters(policy);
    const values = flat.dataSync();
    expect(values.length).toBe(1250);
    expect(values[0]).toBe(0); // log_std = log(1)
    expect([...values.subarray(1, 129)]).toEqual([...dict['actor.0.weight']!.dataSync()]);
    expect([...values.subarray(1249)]).toEqual([...dict['actor.4.bias']!.dataSync()]);
    for (const t of [flat, ...Object.values(dict)]) t.dispose();
    const critic = new CartPoleCritic({ seed: 0 });
    expect(Object.keys(critic.stateDict())).toEqual(['critic.0.weight', 'critic.0.bias', 'critic.2.weight', 'critic.2.bias', 'critic.4.weight', 'critic.4.bias']);
  });

  it('initializes weights orthogonally with gains sqrt 2, sqrt 2, 0.01 (critic: 1) and biases with PyTorch default bounds', () => {
    const policy = new GaussianMlpPolicy({ seed: 3 });
    const critic = new CartPoleCritic({ seed: 3 });
    const p = policy.stateDict();
    const c = critic.stateDict();
    expectScaledIdentity(p['actor.0.weight']!, Math.SQRT2);
    expectScaledIdentity(p['actor.2.weight']!, Math.SQRT2);
    expectScaledIdentity(p['actor.4.weight']!, 0.01);
    expectScaledIdentity(c['critic.0.weight']!, Math.SQRT2);
    expectScaledIdentity(c['critic.2.weight']!, Math.SQRT2);
    expectScaledIdentity(c['critic.4.weight']!, 1);
    for (const [name, fanIn] of [['actor.0.bias', 4], ['actor.2.bias', 32], ['actor.4.bias', 32]] as const) {
      const bias = [...p[name]!.dataSync()];
      expect(Math.max(...bias.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(fanIn));
      if (bias.length > 1) expect(new Set(bias).size).toBe(bias.length);
    }
    expect(p['log_std']!.dataSync()[0]).toBe(0);
    const noisier = new GaussianMlpPolicy({ seed: 3, initNoiseStd: 0.5, logStdScale: 1 });
    expect(noisier.log_std.dataSync()[0]).toBeCloseTo(Math.log(0.5), 6);
  });

  it('is deterministic under a seed and loads back from its flat vector', () => {
    const a = flattenParameters(new GaussianMlpPolicy({ seed: 9 })).dataSync();
    const b = flattenParameters(new GaussianMlpPolicy({ seed: 9 })).dataSync();
    const c = flattenParameters(new GaussianMlpPolicy({ seed: 10 })).dataSync();
    expect([...a]).toEqual([...b]);
    expect([...a]).not.toEqual([...c]);
    const policy = new GaussianMlpPolicy({ seed: 10 });
    loadFlat(policy, Float32Array.from(a));
    expect([...flattenParameters(policy).dataSync()]).toEqual([...a]);
  });

  it('logProb is the diagonal Gaussian log-density with std exp(2 log_std), the paper code\'s reading of log_std', () => {
    const policy = new GaussianMlpPolicy({ seed: 1, initNoiseStd: 0.7 });
    const obs = tensor([0.1, -0.2, 0.03, 0.4, -1, 0.5, 0.2, -0.3], { shape: [2, 4] });
    const actions = tensor([0.25, -0.6], { shape: [2, 1] });
    const [logProb, means] = tidy(() => [policy.logProb(obs, actions).dataSync(), policy.forward(obs).dataSync()]);
    const std = 0.7;
    // The paper's code: std = exp(2 log_std), so log_std holds half the log-std.
    expect(policy.log_std.dataSync()[0]).toBeCloseTo(Math.log(std) / 2, 6);
    [0.25, -0.6].forEach((a, i) => {
      const expected = -((a - means[i]!) ** 2) / (2 * std * std) - Math.log(std) - 0.5 * Math.log(2 * Math.PI);
      expect(logProb[i]!).toBeCloseTo(expected, 5);
    });
  });
});
