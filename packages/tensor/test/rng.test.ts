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

describe('host draws (Generator.uniform, normal, randint, int, permutation)', () => {
  it('are reproducible from the seed and differ between seeds', () => {
    const draw = (seed: number) => {
      const g = new Generator(seed);
      return [g.uniform(50), g.normal(50), g.randint(-5, 5, 50), g.permutation(50), [g.int(0, 1000)], [g.nextSeed()]].map((a) => Array.from(a));
    };
    expect(draw(17)).toEqual(draw(17));
    const [a, b] = [draw(17), draw(18)];
    for (let i = 0; i < a.length; i++) expect(b[i]).not.toEqual(a[i]);
  });

  it('uniform and normal are the numbers rand and randn put in a CPU tensor from the same state', () => {
    const host = new Generator(23);
    const device = new Generator(23);
    expect(Array.from(host.uniform(37))).toEqual(values(rand([37], { generator: device, device: 'cpu' })));
    const z = host.normal(41);
    expect(Array.from(z, Math.fround)).toEqual(values(randn([41], { generator: device, device: 'cpu' })));
    expect(host.getState()).toEqual(device.getState());
  });

  it('the state round-trips through getState/setState and JSON, over host and tensor draws alike', () => {
    const g = new Generator(31);
    g.permutation(10);
    const state = g.getState();
    const run = (h: Generator) => [
      Array.from(h.uniform(9)),
      values(rand([5], { generator: h })),
      Array.from(h.permutation(12)),
      Array.from(h.randint(0, 3, 7)),
      [h.int(-10, 10), h.nextSeed()],
      Array.from(h.normal(6)),
      values(randn([3], { generator: h })),
    ];
    const first = run(g);
    const end = g.getState();
    g.setState(state);
    expect(run(g)).toEqual(first);
    const other = new Generator(0);
    other.setState(JSON.parse(JSON.stringify(state)));
    expect(run(other)).toEqual(first);
    expect(other.getState()).toEqual(end);
  });

  it('host and tensor draws interleaved never reuse a counter block', () => {
    // Block accounting: rand([6]) takes blocks 0-1, int() block 2 (one word used, three
    // dropped), uniform(4) block 3, randint of 5 words blocks 4-5 (with span 10 a rejected
    // word has probability 6e-10), permutation(3) block 6 (2 words), randn([4]) block 7.
    const g = new Generator(77);
    const long = Array.from(new Generator(77).uniform(32));
    expect(values(rand([6], { generator: g }))).toEqual(long.slice(0, 6));
    g.int(0, 10);
    expect(g.getState().counter).toBe(3);
    expect(Array.from(g.uniform(4))).toEqual(long.slice(12, 16));
    g.randint(0, 10, 5);
    expect(g.getState().counter).toBe(6);
    g.permutation(3);
    expect(g.getState().counter).toBe(7);
    const normals = values(randn([4], { generator: g }));
    expect(normals).toEqual(Array.from(new Generator(77).normal(32).subarray(28, 32), Math.fround));

    // Replay: every draw, rerun from the counter where it started, gives the same values and
    // ends where the next draw starts, so the blocks of the draws are disjoint and in order.
    const h = new Generator(5);
    const draws: ((x: Generator) => number[])[] = [
      (x) => values(rand([3], { generator: x })),
      (x) => Array.from(x.permutation(20)),
      (x) => Array.from(x.normal(5)),
      (x) => [x.int(0, 2 ** 31)],
      (x) => values(randint(0, 9, [6], { generator: x })),
      (x) => Array.from(x.randint(-(2 ** 31), 2 ** 31, 9)),
      (x) => [x.nextSeed()],
      (x) => Array.from(x.uniform(2)),
    ];
    let start = h.getState();
    for (const draw of draws) {
      const result = draw(h);
      const end = h.getState();
      expect(end.counter).toBeGreaterThan(start.counter);
      const replay = new Generator(0);
      replay.setState(start);
      expect(draw(replay)).toEqual(result);
      expect(replay.getState()).toEqual(end);
      start = end;
    }
  });

  it('uniform: mean 1/2, variance 1/12, all in [0, 1), KS against U(0, 1)', () => {
    const u = Array.from(new Generator(2025).uniform(N));
    const { mean, variance } = moments(u);
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(5 * Math.sqrt((1 / 80 - 1 / 144) / N));
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(ksStatistic(u, (x) => Math.min(Math.max(x, 0), 1))).toBeLessThan(KS_CRITICAL);
  });

  it('normal: mean 0, variance 1, KS against the normal CDF', () => {
    const z = Array.from(new Generator(4242).normal(N));
    const { mean, variance } = moments(z);
    expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(1 / N));
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
    expect(ksStatistic(z, normalCdf)).toBeLessThan(KS_CRITICAL);
    expect(Math.abs(lagOneCorrelation(z))).toBeLessThan(5 / Math.sqrt(N));
  });

  it('randint and int: values in [low, high), counts pass a chi-square test', () => {
    const g = new Generator(99);
    const chiSquare = (k: ArrayLike<number>, low: number, high: number) => {
      const counts = new Array<number>(high - low).fill(0);
      for (let i = 0; i < k.length; i++) counts[k[i]! - low]!++;
      const expected = k.length / (high - low);
      return counts.reduce((a, c) => a + (c - expected) ** 2 / expected, 0);
    };
    const k = g.randint(-3, 4, N);
    expect(Array.from(k).filter((v) => v < -3 || v >= 4)).toEqual([]);
    // 6 degrees of freedom: P(chi2 > 22.46) = 0.001.
    expect(chiSquare(k, -3, 4)).toBeLessThan(22.46);
    const single = Array.from({ length: 20_000 }, () => g.int(10, 15));
    expect(single.filter((v) => !Number.isInteger(v) || v < 10 || v >= 15)).toEqual([]);
    // 4 degrees of freedom: P(chi2 > 18.47) = 0.001.
    expect(chiSquare(single, 10, 15)).toBeLessThan(18.47);
  });

  it('randint reaches both ends of the int32 range with the right mean', () => {
    const k = Array.from(new Generator(1).randint(-(2 ** 31), 2 ** 31, N));
    expect(Math.min(...k)).toBeGreaterThanOrEqual(-(2 ** 31));
    expect(Math.max(...k)).toBeLessThan(2 ** 31);
    expect(Math.abs(moments(k).mean / 2 ** 32)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
    // Span 3 * 2^29: a quarter of all words fall in the top partial block and are rejected.
    // Without the rejection the low two thirds of the range would have 3 words each to the top
    // third's 2, and the low third would come up 3/8 of the time instead of 1/3.
    const odd = Array.from(new Generator(2).randint(-(2 ** 30), 2 ** 29, N));
    expect(Math.min(...odd)).toBeGreaterThanOrEqual(-(2 ** 30));
    expect(Math.max(...odd)).toBeLessThan(2 ** 29);
    const lowThird = odd.filter((v) => v < -(2 ** 29)).length / N;
    expect(Math.abs(lowThird - 1 / 3)).toBeLessThan(5 * Math.sqrt((1 / 3) * (2 / 3) / N));
  });

  it('permutation: every index exactly once, for n = 0, 1 and larger', () => {
    const g = new Generator(6);
    expect(Array.from(g.permutation(0))).toEqual([]);
    expect(Array.from(g.permutation(1))).toEqual([0]);
    for (const n of [2, 7, 1000]) {
      const p = Array.from(g.permutation(n));
      expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    }
  });

  /** Chi-square of how often each of the 24 orders of 4 items comes out of `shuffle` in `draws` tries. */
  function orderChiSquare(shuffle: () => ArrayLike<number>, draws: number): number {
    const counts = new Map<string, number>();
    for (let d = 0; d < draws; d++) {
      const key = Array.from(shuffle()).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const expected = draws / 24;
    let chi = 0;
    for (const c of counts.values()) chi += (c - expected) ** 2 / expected;
    return chi + (24 - counts.size) * expected; // orders never drawn
  }
  // 23 degrees of freedom: P(chi2 > 49.73) = 0.001.
  const ORDER_CRITICAL = 49.73;

  it('permutation: all 24 orders of 4 items are equally likely (chi-square)', () => {
    const g = new Generator(12);
    expect(orderChiSquare(() => g.permutation(4), 24_000)).toBeLessThan(ORDER_CRITICAL);
  });

  it('the order chi-square has power: it rejects the naive shuffle (swap with any position)', () => {
    const g = new Generator(12);
    const naive = () => {
      const p = [0, 1, 2, 3];
      for (let i = 0; i < 4; i++) {
        const j = g.int(0, 4);
        [p[i], p[j]] = [p[j]!, p[i]!];
      }
      return p;
    };
    expect(orderChiSquare(naive, 24_000)).toBeGreaterThan(ORDER_CRITICAL);
  });

  it('rejects bad counts and ranges without advancing the generator', () => {
    const g = new Generator(3);
    expect(() => g.uniform(-1)).toThrow(/^Generator.uniform: n must be a non-negative integer, got -1/);
    expect(() => g.normal(1.5)).toThrow(/^Generator.normal: n must be a non-negative integer, got 1.5/);
    expect(() => g.permutation(Number.NaN)).toThrow(/^Generator.permutation: n must be a non-negative integer/);
    expect(() => g.randint(3, 3, 1)).toThrow(/^Generator.randint: need integers -2\^31 <= low < high <= 2\^31, got \[3, 3\)/);
    expect(() => g.int(0, 2 ** 31 + 1)).toThrow(/^Generator.int: need integers/);
    expect(() => g.int(0.5, 2)).toThrow(/^Generator.int: need integers/);
    expect(g.getState().counter).toBe(0);
  });
});
