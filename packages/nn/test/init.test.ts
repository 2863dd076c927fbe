import { Generator } from '@gpt/tensor';
import { describe, expect, it } from 'vitest';
import { Conv2d, init, Linear } from '../src/index.js';
import { orthogonalFromNormal } from '../src/init.js';
import { expectClose, fixture, values } from './helpers.js';

interface Moments {
  count: number;
  mean: number;
  var: number;
  maxAbs: number;
}
interface InitFixture {
  stats: { kind: 'linear' | 'conv2d'; shape: number[]; layers: number; weight: Moments; bias: Moments }[];
  orthogonal: { shape: number[]; gain: number; noise: number[]; result: number[] }[];
  gains: Record<string, number>;
}
const data = fixture<InitFixture>('init.json');

function moments(samples: Float32Array[]): Moments {
  let count = 0;
  let total = 0;
  let maxAbs = 0;
  for (const s of samples) for (const v of s) (count++, (total += v), (maxAbs = Math.max(maxAbs, Math.abs(v))));
  const mean = total / count;
  let sq = 0;
  for (const s of samples) for (const v of s) sq += (v - mean) ** 2;
  return { count, mean, var: sq / (count - 1), maxAbs };
}

describe('default Linear/Conv2d initialization has PyTorch distribution', () => {
  // Our RNG is not torch's, so we compare distributions: U(-b, b) with b = 1/sqrt(fan_in)
  // has variance b^2/3; both sample variances must agree with it and with each other
  // within a few standard errors (var of a sample variance of U(-b,b): (4/45) b^4 / n).
  for (const s of data.stats) {
    it(`${s.kind} [${s.shape.join(', ')}]`, () => {
      const fanIn = s.shape.slice(1).reduce((a, b) => a * b, 1);
      const bound = 1 / Math.sqrt(fanIn);
      const generator = new Generator(11);
      const weights: Float32Array[] = [];
      const biases: Float32Array[] = [];
      for (let i = 0; i < s.layers; i++) {
        const layer = s.kind === 'linear' ? new Linear(s.shape[1]!, s.shape[0]!, { generator }) : new Conv2d(s.shape[1]!, s.shape[0]!, s.shape[2]!, { generator });
        weights.push(new Float32Array(values(layer.weight)));
        biases.push(new Float32Array(values(layer.bias!)));
        layer.dispose();
      }
      for (const [ours, theirs] of [[moments(weights), s.weight], [moments(biases), s.bias]] as const) {
        expect(ours.count).toBe(theirs.count);
        const variance = bound ** 2 / 3;
        const se = Math.sqrt(((4 / 45) * bound ** 4) / ours.count);
        expect(Math.abs(ours.var - variance)).toBeLessThan(5 * se);
        expect(Math.abs(theirs.var - variance)).toBeLessThan(5 * se);
        expect(Math.abs(ours.var - theirs.var)).toBeLessThan(7 * se);
        expect(Math.abs(ours.mean - theirs.mean)).toBeLessThan(7 * Math.sqrt(variance / ours.count));
        // Both stay inside the bound and come close to it.
        expect(ours.maxAbs).toBeLessThanOrEqual(bound);
        expect(theirs.maxAbs).toBeLessThanOrEqual(bound);
        expect(ours.maxAbs).toBeGreaterThan(bound * (1 - 20 / ours.count));
      }
    });
  }
});

describe('initializers', () => {
  it('orthogonal matches torch.nn.init.orthogonal_ given the same normal noise', () => {
    for (const o of data.orthogonal) {
      const rows = o.shape[0]!;
      const cols = o.shape.slice(1).reduce((a, b) => a * b, 1);
      const q = orthogonalFromNormal(Float32Array.from(o.noise), rows, cols, o.gain);
      expectClose(q, o.result, 1e-5 * Math.max(o.gain, 1), 1e-4, `orthogonal [${o.shape.join(', ')}]`);
    }
  });

  it('orthogonal gives (semi-)orthogonal rows or columns scaled by gain, reproducibly from a seed', () => {
    for (const [rows, cols] of [[8, 5], [5, 8], [6, 6]] as const) {
      const w = init.orthogonal([rows, cols], { seed: 4, gain: 2 });
      const v = values(w);
      // The smaller side is orthonormal: W^T W = gain^2 I (tall) or W W^T = gain^2 I (wide).
      const tall = rows >= cols;
      const n = tall ? cols : rows;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let dot = 0;
          for (let k = 0; k < (tall ? rows : cols); k++) dot += tall ? v[k * cols + i]! * v[k * cols + j]! : v[i * cols + k]! * v[j * cols + k]!;
          expect(Math.abs(dot - (i === j ? 4 : 0))).toBeLessThan(1e-5);
        }
      }
      const again = init.orthogonal([rows, cols], { seed: 4, gain: 2 });
      expect(Array.from(values(again))).toEqual(Array.from(v));
      w.dispose();
      again.dispose();
    }
  });

  it('calculateGain matches torch.nn.init.calculate_gain', () => {
    for (const [name, gain] of Object.entries(data.gains)) {
      const actual = name === 'leaky_relu(sqrt5)' ? init.calculateGain('leaky_relu', Math.sqrt(5)) : init.calculateGain(name as init.Nonlinearity);
      expect(actual).toBeCloseTo(gain, 12);
    }
  });

  it('normal and uniform draw from the requested distribution; zeros are zeros', () => {
    const n = init.normal([20000], 1.5, 0.5, { seed: 1 });
    const m = moments([values(n)]);
    expect(Math.abs(m.mean - 1.5)).toBeLessThan(0.02);
    expect(Math.abs(Math.sqrt(m.var) - 0.5)).toBeLessThan(0.01);
    const u = init.uniform([20000], -3, 1, { seed: 2 });
    const mu = moments([values(u)]);
    expect(Math.abs(mu.mean + 1)).toBeLessThan(0.04);
    expect(values(u).every((x) => x >= -3 && x < 1)).toBe(true);
    const z = init.zeros([3, 2]);
    expect(Array.from(values(z))).toEqual([0, 0, 0, 0, 0, 0]);
    const k = init.kaimingUniform([10, 50], { seed: 3, nonlinearity: 'relu' });
    expect(values(k).every((x) => Math.abs(x) <= Math.sqrt(6 / 50))).toBe(true);
    for (const t of [n, u, z, k]) t.dispose();
    expect(() => init.fanInAndFanOut([5])).toThrow('fanInAndFanOut: needs a weight with at least 2 dimensions, got shape [5]');
  });
});
