// The random number generator: Philox4x32-10 known answers, determinism of
// seeds and Generator state, and the statistics of uniforms, normals and
// integers (moments, Kolmogorov–Smirnov, chi-square) on 1e5 draws.

import { Generator, manualSeed, rand, randint, randn, type Tensor } from '@gpt/tensor';
import { philox4x32, seedToKey } from '@gpt/tensor/internal';
import { describe, expect, it } from 'vitest';
import { erf } from './reference/erf.js';
import { philoxBlock } from './reference/philox.js';

// Known-answer vectors of Random123 (Salmon et al., SC'11), file tests/kat_vectors of
// github.com/DEShawResearch/random123, the three "philox4x32 10" lines:
// counter (4 words), key (2 words) -> output (4 words).
const KAT: [number[], number[], number[]][] = [
  [[0x00000000, 0x00000000, 0x00000000, 0x00000000], [0x00000000, 0x00000000], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
  [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
  [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
];
// The same file's 7-round answers: they pin down the round function independently of the round count.
const KAT_7_ROUNDS: [number[], number[], number[]][] = [
  [[0x00000000, 0x00000000, 0x00000000, 0x00000000], [0x00000000, 0x00000000], [0x5f6fb709, 0x0d893f64, 0x4f121f81, 0x4f730a48]],
  [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0x4dfccaba, 0x190a87f0, 0xc47362ba, 0xb6b5242a]],
];

const N = 100_000;

function values(t: Tensor): number[] {
  const result = Array.from(t.dataSync());
  t.dispose();
  return result;
}

function moments(xs: readonly number[]): { mean: number; variance: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, variance };
}

/** Kolmogorov–Smirnov statistic D = sup |F_n(x) - F(x)|. */
function ksStatistic(xs: readonly number[], cdf: (x: number) => number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  let d = 0;
  sorted.forEach((x, i) => {
    const f = cdf(x);
    d = Math.max(d, (i + 1) / sorted.length - f, f - i / sorted.length);
  });
  return d;
}

/** Critical value of D at significance 0.001 for large n (1.949 / sqrt(n)). */
const KS_CRITICAL = 1.949 / Math.sqrt(N);
const normalCdf = (x: number): number => 0.5 * (1 + erf(x / Math.SQRT2));

function lagOneCorrelation(xs: readonly number[]): number {
  const { mean, variance } = moments(xs);
  let total = 0;
  for (let i = 1; i < xs.length; i++) total += (xs[i]! - mean) * (xs[i - 1]! - mean);
  return total / (xs.length - 1) / variance;
}

describe('Philox4x32-10', () => {
  it.each(KAT)('known answer for counter %j key %j', (counter, key, expected) => {
    const out = new Uint32Array(4);
    philox4x32(counter[0]!, counter[1]!, counter[2]!, counter[3]!, key[0]!, key[1]!, out);
    expect(Array.from(out)).toEqual(expected);
  });

  it('the reference implementation used by the conformance suite passes the same vectors', () => {
    for (const [counter, key, expected] of KAT) expect(philoxBlock(counter, key)).toEqual(expected);
    for (const [counter, key, expected] of KAT_7_ROUNDS) expect(philoxBlock(counter, key, 7)).toEqual(expected);
  });

  it('the library and the BigInt reference agree on many random blocks', () => {
    const out = new Uint32Array(4);
    let state = 12345;
    const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0);
    for (let i = 0; i < 500; i++) {
      const c = [next(), next(), next(), next()];
      const k = [next(), next()];
      philox4x32(c[0]!, c[1]!, c[2]!, c[3]!, k[0]!, k[1]!, out);
      expect(Array.from(out)).toEqual(philoxBlock(c, k));
    }
  });

  it('seeds map to the two key words (low, high)', () => {
    expect(seedToKey(0)).toEqual([0, 0]);
    expect(seedToKey(2 ** 32 + 5)).toEqual([5, 1]);
    expect(seedToKey(Number.MAX_SAFE_INTEGER)).toEqual([0xffffffff, 0x1fffff]);
  });
});

describe('determinism', () => {
  it('the same seed gives the same numbers; different seeds differ', () => {
    const a = values(rand([1000], { seed: 5 }));
    expect(values(rand([1000], { seed: 5 }))).toEqual(a);
    expect(values(rand([1000], { seed: 6 }))).not.toEqual(a);
    // The high word of the seed matters too.
    expect(values(rand([1000], { seed: 5 + 2 ** 32 }))).not.toEqual(a);
    expect(values(randn([257], { seed: 9 }))).toEqual(values(randn([257], { seed: 9 })));
  });

  it('a shorter draw is a prefix of a longer one with the same seed (counter-based)', () => {
    const long = values(randn([103], { seed: 11 }));
    expect(values(randn([10], { seed: 11 }))).toEqual(long.slice(0, 10));
    expect(values(randn([2, 3], { seed: 11 }))).toEqual(long.slice(0, 6));
  });

  it('manualSeed restarts the default generator', () => {
    manualSeed(1234);
    const first = values(rand([50]));
    const second = values(rand([50]));
    expect(second).not.toEqual(first);
    manualSeed(1234);
    expect(values(rand([50]))).toEqual(first);
    expect(values(rand([50]))).toEqual(second);
  });

  it('Generator state can be saved and restored, also into another generator', () => {
    const g = new Generator(99);
    values(rand([13], { generator: g }));
    const state = g.getState();
    const next = values(randn([20], { generator: g }));
    const after = values(rand([7], { generator: g }));
    g.setState(state);
    expect(values(randn([20], { generator: g }))).toEqual(next);
    const other = new Generator(1);
    other.setState(JSON.parse(JSON.stringify(state)));
    expect(values(randn([20], { generator: other }))).toEqual(next);
    expect(values(rand([7], { generator: other }))).toEqual(after);
  });

  it('getState returns a copy: drawing afterwards does not change it', () => {
    const g = new Generator(3);
    const state = g.getState();
    values(rand([9], { generator: g }));
    expect(state).toEqual({ key: [3, 0], counter: 0 });
    expect(g.getState().counter).toBe(3);
  });

  it('Generator.manualSeed restarts the stream and nextSeed is deterministic', () => {
    const g = new Generator(21);
    const first = values(rand([6], { generator: g }));
    const seedA = g.nextSeed();
    g.manualSeed(21);
    expect(values(rand([6], { generator: g }))).toEqual(first);
    expect(g.nextSeed()).toBe(seedA);
    expect(Number.isSafeInteger(seedA) && seedA >= 0).toBe(true);
  });

  it('successive draws from one generator do not overlap', () => {
    const g = new Generator(8);
    const a = values(rand([4], { generator: g }));
    const b = values(rand([4], { generator: g }));
    expect(b).not.toEqual(a);
    expect(values(rand([8], { seed: 8 }))).toEqual([...a, ...b]);
  });
});

describe('statistics of 1e5 draws', () => {
  it('uniforms: mean 1/2, variance 1/12, all in [0, 1), KS against U(0, 1)', () => {
    const u = values(rand([N], { seed: 2024 }));
    const { mean, variance } = moments(u);
    // 5 standard errors: sd(mean) = sqrt(1/12/N), sd(variance) = sqrt((1/80 - 1/144)/N).
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(5 * Math.sqrt((1 / 80 - 1 / 144) / N));
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(ksStatistic(u, (x) => Math.min(Math.max(x, 0), 1))).toBeLessThan(KS_CRITICAL);
    expect(Math.abs(lagOneCorrelation(u))).toBeLessThan(5 / Math.sqrt(N));
  });

  it('uniforms with low/high stay in [low, high) with the right mean', () => {
    const u = values(rand([N], { seed: 7, low: -2, high: 6 }));
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...u)).toBeLessThan(6);
    expect(Math.abs(moments(u).mean - 2)).toBeLessThan(5 * Math.sqrt(64 / 12 / N));
  });

  it('normals: mean 0, variance 1, KS against the normal CDF, no lag-1 correlation', () => {
    const z = values(randn([N], { seed: 31337 }));
    const { mean, variance } = moments(z);
    expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(1 / N));
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
    expect(ksStatistic(z, normalCdf)).toBeLessThan(KS_CRITICAL);
    // Box–Muller's cos/sin pairs are independent normals.
    expect(Math.abs(lagOneCorrelation(z))).toBeLessThan(5 / Math.sqrt(N));
    expect(z.every(Number.isFinite)).toBe(true);
  });

  it('normals with mean and std options', () => {
    const z = values(randn([N], { seed: 5, mean: -3, std: 2 }));
    const { mean, variance } = moments(z);
    expect(Math.abs(mean + 3)).toBeLessThan(5 * Math.sqrt(4 / N));
    expect(Math.abs(variance - 4)).toBeLessThan(5 * 4 * Math.sqrt(2 / N));
    expect(ksStatistic(z, (x) => normalCdf((x + 3) / 2))).toBeLessThan(KS_CRITICAL);
  });

  it('the KS check has power: it rejects normals with standard deviation 1.05 and uniforms shifted by 0.01', () => {
    const z = values(randn([N], { seed: 31337, std: 1.05 }));
    expect(ksStatistic(z, normalCdf)).toBeGreaterThan(KS_CRITICAL);
    const u = values(rand([N], { seed: 2024, low: 0.01, high: 1.01 }));
    expect(ksStatistic(u, (x) => Math.min(Math.max(x, 0), 1))).toBeGreaterThan(KS_CRITICAL);
  });

  it('randint: values in [low, high), every value hit, counts pass a chi-square test', () => {
    const low = -3;
    const high = 7;
    const k = values(randint(low, high, [N], { seed: 77 }));
    const counts = new Array<number>(high - low).fill(0);
    expect(k.filter((v) => !Number.isInteger(v) || v < low || v >= high)).toEqual([]);
    for (const v of k) counts[v - low]!++;
    expect(counts.every((c) => c > 0)).toBe(true);
    const expected = N / (high - low);
    const chiSquare = counts.reduce((a, c) => a + (c - expected) ** 2 / expected, 0);
    // 9 degrees of freedom: P(chi2 > 27.88) = 0.001.
    expect(chiSquare).toBeLessThan(27.88);
  });

  it('randint returns int32 and covers a range as wide as 2^24', () => {
    const t = randint(0, 2 ** 24, [N], { seed: 3 });
    expect(t.dtype).toBe('int32');
    const k = values(t);
    expect(Math.min(...k)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...k)).toBeLessThan(2 ** 24);
    expect(Math.abs(moments(k).mean / 2 ** 24 - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
  });
});
