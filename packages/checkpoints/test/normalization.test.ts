import { describe, expect, it } from 'vitest';
import { OPENAI_TARGET_STD, computeOpenaiCoefficient, identityNormalizer, openaiNormalizer } from '../src/index.js';
import { MemorySource } from './helpers/memory-source.js';

describe('normalization', () => {
  it('openai: multiplies by the coefficient and undoes it', () => {
    const n = openaiNormalizer(4.185);
    const x = Float32Array.of(0.1, -0.25, 2);
    const y = n.normalize(x);
    expect(y).toEqual(Float32Array.of(Math.fround(0.1) * 4.185, -0.25 * 4.185, 2 * 4.185));
    const back = n.unnormalize(y);
    for (let i = 0; i < x.length; i++) expect(back[i]).toBeCloseTo(x[i]!, 6);
    const inPlace = Float32Array.from(x);
    expect(n.normalize(inPlace, inPlace)).toBe(inPlace);
    expect(() => openaiNormalizer(0)).toThrow(/positive finite/);
  });

  it('identity leaves values unchanged', () => {
    const x = Float32Array.of(1, 2);
    expect(identityNormalizer().normalize(x)).toEqual(x);
    expect(identityNormalizer().unnormalize(x, x)).toBe(x);
  });

  it('coefficient = 0.538 / unbiased std of exactly the sampled checkpoints', async () => {
    const source = MemorySource.build(7, 20, 300, (r, k, j) => Math.sin(r * 131 + k * 17 + j) * (1 + r) + k * 0.01);
    const result = await computeOpenaiCoefficient(source, { numSamples: 500, seed: 10 });
    expect(source.reads).toHaveLength(500);
    // Naive two-pass float64 std over the very checkpoints the estimator read.
    const sampled = [...source.reads];
    const values: number[] = [];
    for (const { run, index } of sampled) values.push(...(await source.readCheckpoint(run, index)));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
    expect(result.std).toBeCloseTo(Math.sqrt(variance), 12);
    expect(result.mean).toBeCloseTo(mean, 12);
    expect(result.coefficient).toBeCloseTo(OPENAI_TARGET_STD / Math.sqrt(variance), 10);
    // Runs and checkpoints are drawn uniformly: every run is hit, first and last checkpoints too.
    expect(new Set(sampled.map((r) => r.run)).size).toBe(7);
    expect(sampled.some((r) => r.index === 0) && sampled.some((r) => r.index === 19)).toBe(true);
  });

  it('is deterministic per seed, samples only the given runs, and refuses constant data', async () => {
    const source = MemorySource.build(4, 10, 50, (r, k, j) => Math.cos(r * 7 + k * 3 + j * 0.1) * (r + 1));
    const a = await computeOpenaiCoefficient(source, { numSamples: 200, seed: 3 });
    const b = await computeOpenaiCoefficient(source, { numSamples: 200, seed: 3 });
    const c = await computeOpenaiCoefficient(source, { numSamples: 200, seed: 4 });
    expect(a).toEqual(b);
    expect(c.coefficient).not.toBe(a.coefficient);
    source.reads.length = 0;
    await computeOpenaiCoefficient(source, { numSamples: 50, runs: ['001', '003'] });
    expect(new Set(source.reads.map((r) => r.run))).toEqual(new Set(['001', '003']));
    const flat = MemorySource.build(2, 3, 5, () => 0.5);
    await expect(computeOpenaiCoefficient(flat, { numSamples: 10 })).rejects.toThrow(/std is 0/);
  });
});
